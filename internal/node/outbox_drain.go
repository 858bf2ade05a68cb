package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sphere.software/objstore"
)

// outboxLoop loads the pending uploads a previous run left, then drains
// the outbox whenever woken, retrying with a growing delay while the origin
// fails, and looking again every outboxCheckEvery while uploads of other
// nodes are pending (a takeover may come due).
func (n *Node) outboxLoop() {
	defer n.wg.Done()
	if err := n.pending.load(n.ctx, n.journal); err != nil && n.ctx.Err() == nil {
		n.log.Error("cannot load the write-back outbox from the journal; pending uploads wait for their next change", "err", err)
	}
	delay := outboxRetryMin
	for {
		var wait <-chan time.Time
		left, err := n.drain(n.ctx)
		switch {
		case n.ctx.Err() != nil:
			return
		case err != nil:
			n.log.Warn("write-back upload failed, will retry", "in", delay, "err", err)
			wait = time.After(delay)
			delay = min(2*delay, outboxRetryMax)
		default:
			delay = outboxRetryMin
			if left {
				wait = time.After(outboxCheckEvery)
			}
		}
		select {
		case <-n.ctx.Done():
			return
		case <-n.pending.wake:
		case <-wait:
		}
	}
}

// drain uploads this node's pending uploads, oldest first, and those of
// gone writers it takes over. It stops at the first origin error (the
// origin is down or hanging: the rest would fail too) and reports whether
// entries of other nodes are left to watch.
func (n *Node) drain(ctx context.Context) (othersLeft bool, err error) {
	now := time.Now()
	members := n.Members()
	for _, e := range n.pending.snapshot() {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		takeover := false
		if e.writer != n.cfg.NodeID {
			if !n.pending.takeoverDue(e, members, now) {
				othersLeft = true
				continue
			}
			takeover = true
		}
		if err := n.uploadPending(ctx, e, takeover); err != nil {
			n.pending.count(&n.pending.failed)
			if takeover {
				// Another node's upload: no reason to hold back this
				// node's own; it is tried again on the next look.
				n.log.Warn("write-back takeover failed, will retry", "key", e.key, "writer", e.writer, "err", err)
				othersLeft = true
				continue
			}
			return othersLeft, fmt.Errorf("node: outbox: %s: %w", e.key, err)
		}
	}
	return othersLeft, nil
}

// uploadPending uploads the body of e's record, when the journal still
// holds that pending version, under a new version stamped now (as raising
// the level does), conditional on the origin holding no newer version, and
// journals the new version as uploaded. It holds the key's writer lock for
// the upload, as a level-1 PUT does, so a newer write of the key on this
// node is journaled after it and never overtaken by it; the origin's
// deadlines bound how long.
func (n *Node) uploadPending(ctx context.Context, e pendingUpload, takeover bool) error {
	if takeover {
		if err := n.holdForTakeover(ctx, e); err != nil {
			return err
		}
	}
	unlock := n.lockKey(e.key)
	defer unlock()
	rec, err := n.journal.Get(ctx, e.key)
	if errors.Is(err, objstore.ErrNotFound) || (err == nil && (rec.Version != e.version || !isPending(rec))) {
		n.pending.drop(e) // replaced meanwhile; its own change updated the index
		return nil
	}
	if err != nil {
		return err
	}
	f, err := n.blobs.Open(rec.Key, rec.BodyVersion, rec.Sum)
	if err != nil {
		return fmt.Errorf("local body: %w", err)
	}
	defer f.Close()
	up := rec
	up.Version = n.newVersion()
	landed, err := n.putOrigin(ctx, up, f)
	if err != nil {
		return err
	}
	if !landed {
		// The origin holds a newer version of the key, written elsewhere:
		// this one lost, and the newer record is on its way here.
		n.log.Info("write-back upload superseded by a newer version in the origin", "key", e.key, "version", e.version)
		n.pending.drop(e)
		n.pending.count(&n.pending.superseded)
		return nil
	}
	up.InRemote = true
	if _, _, err := n.merge(ctx, up); err != nil {
		return fmt.Errorf("journal the upload: %w", err)
	}
	n.replicate(up)
	n.pending.count(&n.pending.uploaded)
	if takeover {
		n.pending.count(&n.pending.takenOver)
		n.log.Warn("took over the write-back upload of a node gone", "key", e.key, "writer", e.writer, "version", e.version)
	}
	return nil
}

// holdForTakeover copies the body of e's record from any alive member that
// holds it when this node does not (a level-2 body whose pull has not run).
func (n *Node) holdForTakeover(ctx context.Context, e pendingUpload) error {
	rec, err := n.journal.Get(ctx, e.key)
	if err != nil || rec.Version != e.version || n.blobs.Has(rec.Key, rec.BodyVersion) {
		return nil // uploadPending sorts out a changed record
	}
	if _, err := n.copyFromHolders(ctx, rec); err != nil {
		return fmt.Errorf("takeover: no alive node holds the body: %w", err)
	}
	return nil
}

// OutboxStats returns the write-back outbox's figures.
func (n *Node) OutboxStats() OutboxStats {
	return n.pending.stats(time.Now())
}
