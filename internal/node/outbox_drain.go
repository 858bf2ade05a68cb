package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"sphere.software/objstore"
)

// outboxLoop loads the pending uploads a previous run left, then drains
// the outbox whenever woken (after write-back PUTs pause: deferFor),
// retrying with a growing delay while the origin
// fails, and looking again every outboxCheckEvery while uploads of other
// nodes are pending (a takeover may come due).
func (n *Node) outboxLoop() {
	defer n.wg.Done()
	if err := n.pending.load(n.ctx, n.journal); err != nil && n.ctx.Err() == nil {
		n.log.Error("cannot load the write-back outbox from the journal; pending uploads wait for their next change", "err", err)
	}
	delay := outboxRetryMin
	for {
		if d := n.pending.deferFor(time.Now()); d > 0 {
			select {
			case <-n.ctx.Done():
				return
			case <-time.After(d):
			}
			continue
		}
		n.pending.draining()
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
		wake := n.pending.wake
		if err != nil {
			// Backing off: new write-back PUTs poke the outbox, and must
			// not turn the backoff into a busy retry against a down origin.
			wake = nil
		}
		select {
		case <-n.ctx.Done():
			return
		case <-wake:
		case <-wait:
		}
	}
}

// drainWorkers is how many uploads a drain runs at once.
const drainWorkers = 4

// drain uploads this node's pending uploads, oldest first, drainWorkers at
// a time, and those of gone writers it takes over. It hands out no more
// after the first origin error (the origin is down or hanging: the rest
// would fail too) and reports whether entries of other nodes are left to
// watch.
func (n *Node) drain(ctx context.Context) (othersLeft bool, err error) {
	now := time.Now()
	members := n.Members()
	var (
		mu    sync.Mutex // guards first
		first error
		wg    sync.WaitGroup
	)
	work := make(chan pendingUpload)
	for range drainWorkers {
		wg.Go(func() {
			for e := range work {
				if err := n.drainOne(ctx, e); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, e := range n.pending.snapshot() {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		if e.writer != n.cfg.NodeID && !n.pending.takeoverDue(e, members, now) {
			othersLeft = true
			continue
		}
		if e.writer != n.cfg.NodeID {
			othersLeft = true // until the takeover's record says uploaded
		}
		work <- e
	}
	close(work)
	wg.Wait()
	return othersLeft, cmp.Or(first, ctx.Err())
}

// drainOne uploads e, or takes it over when another node wrote it. A
// failed takeover is logged and tried again on the next look: it is no
// reason to hold back this node's own uploads.
func (n *Node) drainOne(ctx context.Context, e pendingUpload) error {
	takeover := e.writer != n.cfg.NodeID
	err := n.uploadPending(ctx, e, takeover)
	if err == nil {
		return nil
	}
	n.pending.count(&n.pending.failed)
	if takeover {
		n.log.Warn("write-back takeover failed, will retry", "key", e.key, "writer", e.writer, "err", err)
		return nil
	}
	return fmt.Errorf("node: outbox: %s: %w", e.key, err)
}

// uploadPending uploads the body of e's record, when the journal still
// holds that pending version, under the version right after it
// (objstore.Version.Settled: the origin copy and the journal record must
// carry one version, and a record that changes only InRemote needs a new
// one to win over the pending record everywhere), conditional on the
// origin holding no newer version, and journals that version as uploaded.
// Any write made after the pending one, on any node, stays newer than it.
// It holds the key's writer lock for the upload, as a level-1 PUT does, so
// a newer write of the key on this node is journaled after it and never
// overtaken by it; the origin's deadlines bound how long.
func (n *Node) uploadPending(ctx context.Context, e pendingUpload, takeover bool) error {
	if e.delete {
		return n.deletePending(ctx, e, takeover)
	}
	if takeover {
		if err := n.holdForTakeover(ctx, e); err != nil {
			return err
		}
	}
	unlock := n.lockKey(e.key)
	defer unlock()
	rec, owed, err := n.stillOwed(ctx, e)
	if !owed {
		return err
	}
	f, err := n.blobs.Open(rec.Key, rec.BodyVersion, rec.Sum)
	if err != nil {
		return fmt.Errorf("local body: %w", err)
	}
	defer f.Close()
	up := rec
	up.Version = rec.Version.Settled()
	landed, err := n.putOrigin(ctx, up, f, false)
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
	return n.settled(ctx, e, up, takeover)
}

// stillOwed returns the journal's record of e's key, and whether it is
// still e: that pending version, owing the origin the same kind of change.
// An entry replaced meanwhile is dropped (the change that replaced it
// updated the index). The caller holds the key's writer lock.
func (n *Node) stillOwed(ctx context.Context, e pendingUpload) (objstore.Record, bool, error) {
	rec, err := n.journal.Get(ctx, e.key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
	case err != nil:
		return rec, false, err
	case rec.Version == e.version && owesOrigin(rec) && rec.Deleted == e.delete:
		return rec, true, nil
	}
	n.pending.drop(e)
	return rec, false, nil
}

// settled journals rec, the record that says e was done in the origin
// (uploaded, or deleted), replicates it and counts it.
func (n *Node) settled(ctx context.Context, e pendingUpload, rec objstore.Record, takeover bool) error {
	what, done := "upload", &n.pending.uploaded
	if e.delete {
		what, done = "delete", &n.pending.deleted
	}
	if _, _, err := n.merge(ctx, rec); err != nil {
		return fmt.Errorf("journal the %s: %w", what, err)
	}
	n.replicate(rec)
	n.pending.count(done)
	if takeover {
		n.pending.count(&n.pending.takenOver)
		n.log.Warn("took over the write-back "+what+" of a node gone", "key", e.key, "writer", e.writer, "version", e.version)
	}
	return nil
}

// deletePending deletes the key of e, a write-back delete, from the
// origin when the journal still holds that tombstone, and journals a new
// tombstone that owes nothing (under the pending one's Settled version, as
// an upload's record, so that it wins over the pending one everywhere and
// loses to any write made after the delete). Under the key's writer
// lock, as an upload. An origin copy newer than the tombstone was written
// after the delete, through another node: it stays, and the record that
// says so is on its way here, so the entry is dropped as superseded.
func (n *Node) deletePending(ctx context.Context, e pendingUpload, takeover bool) error {
	unlock := n.lockKey(e.key)
	defer unlock()
	rec, owed, err := n.stillOwed(ctx, e)
	if !owed {
		return err
	}
	got, err := n.remote.Stat(ctx, e.key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
	case err != nil:
		return err
	case got.Version.Compare(rec.Version) > 0:
		n.log.Info("write-back delete superseded by a newer version in the origin", "key", e.key, "version", e.version)
		n.pending.drop(e)
		n.pending.count(&n.pending.superseded)
		return nil
	default:
		if err := n.remote.Delete(ctx, e.key); err != nil {
			return err
		}
	}
	done := rec
	done.InRemote = false
	done.Version = rec.Version.Settled()
	return n.settled(ctx, e, done, takeover)
}

// settleBucketDeletes does now, whoever wrote them, the write-back deletes
// of bucket's objects that are still owed to the origin: a bucket whose
// objects are all deleted reads as empty, and the origin must be too
// before it deletes the bucket.
func (n *Node) settleBucketDeletes(ctx context.Context, bucket string) error {
	for _, e := range n.pending.snapshot() {
		if !e.delete || e.key.Bucket != bucket {
			continue
		}
		if err := n.deletePending(ctx, e, false); err != nil {
			return fmt.Errorf("write-back delete of %s: %w", e.key, err)
		}
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
