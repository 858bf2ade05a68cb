package node

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/hlc"
)

// clusterParts are what AttachCluster gives the node.
type clusterParts struct {
	cluster Cluster
	peers   Peers
}

// AttachCluster joins the node to a cluster: it starts the goroutines that
// push local changes to peers, pull the level-2 bodies this node lacks,
// sync journals with a random peer every SyncInterval and expire old
// tombstones. Call it once; Close stops them. The cluster may already call
// Apply and MemberChanged before.
func (n *Node) AttachCluster(c Cluster, p Peers) {
	n.attached.Store(&clusterParts{cluster: c, peers: p})
	n.goLoop(n.pushLoop)
	for range 2 {
		n.goLoop(n.pullLoop)
	}
	n.goLoop(n.syncLoop)
	n.goLoop(n.expireLoop)
	n.goLoop(n.repairScan)
}

// peers returns the peer client, or nil on a solo node.
func (n *Node) peers() Peers {
	if p := n.attached.Load(); p != nil {
		return p.peers
	}
	return nil
}

// goLoop runs fn on the node's context as a goroutine Close waits for.
func (n *Node) goLoop(fn func(ctx context.Context)) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		fn(n.ctx)
	}()
}

// Members returns the cluster's members, or this node alone.
func (n *Node) Members() []objstore.Member {
	p := n.attached.Load()
	if p == nil {
		return []objstore.Member{{ID: n.cfg.NodeID, State: "alive", Self: true}}
	}
	return p.cluster.Members()
}

// MemberChanged is called by the cluster when a member joins or changes
// state; a member that (re)joins gets an anti-entropy pass right away.
func (n *Node) MemberChanged(m objstore.Member) {
	switch {
	case m.Self:
		return
	case m.State != "alive":
		// Bodies of that member held in memory are served only while it
		// is up, as they would be by streaming from it.
		n.hot.dropPeer(m.ID)
		return
	}
	select {
	case n.syncNow <- m:
	default: // a pass is queued already; the periodic ones catch up
	}
}

// alivePeers returns the other members that are alive, in random order.
func (n *Node) alivePeers() []objstore.Member {
	p := n.attached.Load()
	if p == nil {
		return nil
	}
	var out []objstore.Member
	for _, m := range p.cluster.Members() {
		if !m.Self && m.State == "alive" {
			out = append(out, m)
		}
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// replicate queues a local change for the pusher. A full outbox drops it:
// anti-entropy delivers it within a sync interval anyway.
func (n *Node) replicate(rec objstore.Record) {
	if n.attached.Load() == nil {
		return
	}
	select {
	case n.outbox <- rec:
	default:
		n.log.Debug("outbox full; anti-entropy will deliver", "key", rec.Key)
	}
}

// pushLoop sends queued changes to every alive peer in batches.
func (n *Node) pushLoop(ctx context.Context) {
	for {
		var batch []objstore.Record
		select {
		case <-ctx.Done():
			return
		case rec := <-n.outbox:
			batch = append(batch, rec)
		}
	drain:
		for len(batch) < 512 {
			select {
			case rec := <-n.outbox:
				batch = append(batch, rec)
			default:
				break drain
			}
		}
		n.pushAll(ctx, batch)
	}
}

func (n *Node) pushAll(ctx context.Context, batch []objstore.Record) {
	peers := n.alivePeers()
	done := make(chan struct{}, len(peers))
	for _, m := range peers {
		go func() {
			defer func() { done <- struct{}{} }()
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := n.peers().Push(pctx, m, batch); err != nil {
				n.log.Debug("push failed; anti-entropy will deliver", "peer", m.ID, "records", len(batch), "err", err)
			}
		}()
	}
	for range peers {
		<-done
	}
}

// syncLoop runs an anti-entropy pass with a random alive peer every
// SyncInterval, and at once with a member that (re)joins.
func (n *Node) syncLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.SyncInterval)
	defer t.Stop()
	for {
		var m objstore.Member
		select {
		case <-ctx.Done():
			return
		case m = <-n.syncNow:
		case <-t.C:
			peers := n.alivePeers()
			if len(peers) == 0 {
				continue
			}
			m = peers[0]
		}
		n.syncWith(ctx, m)
	}
}

func (n *Node) syncWith(ctx context.Context, m objstore.Member) {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	st, err := Sync(sctx, n, n.peers(), m)
	if !errors.Is(err, context.Canceled) { // a pass cut short by shutdown is no pass
		n.stats.countSync(st, err)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		n.log.Warn("anti-entropy pass failed", "peer", m.ID, "addr", m.Addr, "err", err)
		return
	}
	level := slog.LevelDebug // equal states: the common pass, not worth a line
	if st.LeavesDiffer > 0 {
		level = slog.LevelInfo
	}
	n.log.Log(ctx, level, "anti-entropy pass", "peer", m.ID, "groups_differ", st.GroupsDiffer, "leaves_differ", st.LeavesDiffer,
		"sent", st.Sent, "received", st.Received, "bytes_in", st.BytesIn, "bytes_out", st.BytesOut)
}

// expireLoop removes tombstones older than TombstoneGrace, hourly (or at
// the grace period's pace when it is shorter).
func (n *Node) expireLoop(ctx context.Context) {
	every := min(time.Hour, max(n.cfg.TombstoneGrace/4, time.Second))
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		removed, err := n.journal.ExpireTombstones(ctx, n.horizon())
		if err != nil {
			n.log.Warn("tombstone expiry failed", "err", err)
		} else if removed > 0 {
			n.log.Info("expired tombstones", "removed", removed, "grace", n.cfg.TombstoneGrace)
		}
	}
}

// horizon is the HLC time before which tombstones are expired.
func (n *Node) horizon() uint64 {
	return hlc.FromTime(time.Now().Add(-n.cfg.TombstoneGrace))
}
