package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"sphere.software/objstore"
)

// pullQueue is a set of keys whose level-2 bodies this node must copy, in
// arrival order; a key queued twice is pulled once.
type pullQueue struct {
	mu      sync.Mutex // guards queued and order
	queued  map[objstore.Key]struct{}
	order   []objstore.Key
	waiting chan struct{} // has a token while order is not empty
}

func newPullQueue() *pullQueue {
	return &pullQueue{queued: map[objstore.Key]struct{}{}, waiting: make(chan struct{}, 1)}
}

func (q *pullQueue) add(key objstore.Key) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.queued[key]; ok {
		return
	}
	q.queued[key] = struct{}{}
	q.order = append(q.order, key)
	select {
	case q.waiting <- struct{}{}:
	default:
	}
}

// next waits for a key or for ctx to end.
func (q *pullQueue) next(ctx context.Context) (objstore.Key, bool) {
	for {
		q.mu.Lock()
		if len(q.order) > 0 {
			key := q.order[0]
			q.order = q.order[1:]
			delete(q.queued, key)
			if len(q.order) > 0 {
				select {
				case q.waiting <- struct{}{}:
				default:
				}
			}
			q.mu.Unlock()
			return key, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return objstore.Key{}, false
		case <-q.waiting:
		}
	}
}

// pullLoop copies queued level-2 bodies to this node. A pull that fails is
// queued again after a pause; the repair scan finds any that fall through.
func (n *Node) pullLoop(ctx context.Context) {
	for {
		key, ok := n.pulls.next(ctx)
		if !ok {
			return
		}
		if err := n.pull(ctx, key); err != nil {
			n.log.Warn("level-2 body pull failed; will retry", "key", key, "err", err)
			n.goLoop(func(ctx context.Context) {
				select {
				case <-ctx.Done():
				case <-time.After(2 * time.Second):
					n.pulls.add(key)
				}
			})
		}
	}
}

// pull copies the body of key's current record, when it is a level-2
// body this node lacks.
func (n *Node) pull(ctx context.Context, key objstore.Key) error {
	rec, err := n.liveRecord(ctx, key)
	if errors.Is(err, objstore.ErrNotFound) || errors.Is(err, objstore.ErrDeleted) {
		return nil
	}
	if err != nil || !n.needsBody(rec) {
		return err
	}
	_, err = n.copyFromHolders(ctx, rec)
	return err
}

// copyFromHolders copies the body of rec from the node that wrote it, else
// any other alive member, else the origin when rec says it is there, and
// keeps it if rec is still current (storePulled). It returns where the body
// came from: a member's ID, or "origin". It pulls level-2 bodies and
// repairs rotted ones (repair.go).
func (n *Node) copyFromHolders(ctx context.Context, rec objstore.Record) (from string, err error) {
	key := rec.Key
	var errs []error
	for _, m := range n.holdersFirst(rec) {
		body, err := n.peers().OpenBody(ctx, m, key, rec.BodyVersion, 0)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		err = n.storePulled(ctx, rec, body)
		body.Close()
		if err == nil {
			return m.ID, nil
		}
		errs = append(errs, err)
	}
	if rec.InRemote {
		body, _, err := n.remote.Get(ctx, key)
		if err == nil {
			err = n.storePulled(ctx, rec, body)
			body.Close()
			if err == nil {
				return "origin", nil
			}
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("node: pull %s: %w", key, errors.Join(append(errs, objstore.ErrUnavailable)...))
}

// holdersFirst returns the alive peers, the one that wrote rec's body first.
func (n *Node) holdersFirst(rec objstore.Record) []objstore.Member {
	peers := n.alivePeers()
	for i, m := range peers {
		if m.ID == rec.BodyVersion.Node {
			peers[0], peers[i] = peers[i], peers[0]
		}
	}
	return peers
}

// storePulled writes a pulled body, checks it against rec's checksum and
// keeps it only if rec still has this body.
func (n *Node) storePulled(ctx context.Context, rec objstore.Record, body io.Reader) error {
	w, err := n.blobs.Create(rec.Key, rec.BodyVersion)
	if err != nil {
		return err
	}
	defer w.Close()
	if _, err := io.Copy(w, body); err != nil {
		return err
	}
	sum, err := w.Commit()
	if err != nil {
		return err
	}
	if sum.Size != rec.Sum.Size || sum.CRC32C != rec.Sum.CRC32C {
		n.dropBody(rec)
		return fmt.Errorf("%w: pulled body of %s", objstore.ErrChecksum, rec.Key)
	}
	unlock := n.lockKey(rec.Key)
	defer unlock()
	if cur, err := n.journal.Get(ctx, rec.Key); err != nil || cur.Deleted || cur.BodyVersion != rec.BodyVersion {
		n.dropBody(rec) // superseded while it was copied
	} else {
		n.bounded.track(cur)
		// A read that came first may hold this body in memory as a peer's;
		// from now on it is served as this node's own.
		n.hot.invalidate(rec.Key)
	}
	return nil
}

// repairScan queues every level-2 record whose body is missing: at start,
// then every ten minutes, so bodies a crash or a failed pull left behind
// arrive without waiting for a new write.
func (n *Node) repairScan(ctx context.Context) {
	for {
		queued := 0
		err := n.journal.Range(ctx, func(rec objstore.Record) bool {
			if n.needsBody(rec) {
				n.pulls.add(rec.Key)
				queued++
			}
			return true
		})
		if err != nil && ctx.Err() == nil {
			n.log.Warn("repair scan failed", "err", err)
		} else if queued > 0 {
			n.log.Info("repair scan queued level-2 bodies", "count", queued)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Minute):
		}
	}
}
