package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"sphere.software/objstore"
)

// Retry delays of the orphan reconciler after an origin error.
var (
	orphanRetryMin = time.Second
	orphanRetryMax = time.Minute
)

// upload sends body to the origin as rec after recording an intent for
// rec's version: a crash before the record's Merge (which clears the intent)
// leaves the intent, and the reconciler then makes the origin agree with the
// journal. A failed upload may still have landed, so its intent stays and
// the reconciler is woken. superseded means the origin holds a newer version
// of the key and nothing was uploaded (putOrigin): this write lost.
func (n *Node) upload(ctx context.Context, rec objstore.Record, body io.ReaderAt) (superseded bool, err error) {
	if err := n.journal.PutIntent(ctx, rec.Key, rec.Version); err != nil {
		return false, fmt.Errorf("record upload intent: %w", err)
	}
	landed, err := n.putOrigin(ctx, rec, body, false)
	if err != nil {
		n.wakeOrphans()
		return false, err
	}
	if !landed {
		n.dropIntent(ctx, rec)
		return true, nil
	}
	return false, nil
}

// dropIntent removes the upload intent of rec after an upload that put
// nothing of ours in the origin (superseded): it has nothing to settle. A
// failure leaves it to the reconciler.
func (n *Node) dropIntent(ctx context.Context, rec objstore.Record) {
	if err := n.journal.DeleteIntent(ctx, rec.Key, rec.Version); err != nil {
		n.log.Warn("cannot drop upload intent; the reconciler will", "key", rec.Key, "err", err)
	}
}

// wakeOrphans asks the reconciler for a pass.
func (n *Node) wakeOrphans() {
	select {
	case n.orphanWake <- struct{}{}:
	default:
	}
}

// reconcileLoop runs a pass over the intents at start and whenever woken,
// retrying with a growing delay while the origin fails.
func (n *Node) reconcileLoop() {
	defer n.wg.Done()
	delay := orphanRetryMin
	for {
		var retry <-chan time.Time
		if err := n.reconcile(n.ctx); err != nil {
			if n.ctx.Err() != nil {
				return
			}
			n.log.Warn("orphan check failed, will retry", "in", delay, "err", err)
			t := time.NewTimer(delay)
			retry = t.C
			delay = min(2*delay, orphanRetryMax)
		} else {
			delay = orphanRetryMin
		}
		select {
		case <-n.ctx.Done():
			return
		case <-n.orphanWake:
		case <-retry:
		}
	}
}

// reconcile settles every intent left and returns the first error, after
// trying them all; the intents that failed stay for the next pass.
func (n *Node) reconcile(ctx context.Context) error {
	type intent struct {
		key objstore.Key
		v   objstore.Version
	}
	var left []intent
	err := n.journal.Intents(ctx, func(key objstore.Key, v objstore.Version) bool {
		left = append(left, intent{key, v})
		return true
	})
	if err != nil {
		return fmt.Errorf("node: orphans: %w", err)
	}
	var first error
	for _, in := range left {
		if err := n.settleIntent(ctx, in.key, in.v); err != nil && first == nil {
			first = fmt.Errorf("node: orphans: %s: %w", in.key, err)
		}
	}
	return first
}

// settleIntent makes the origin agree with the journal for one intent, under
// the key's writer lock so that no write of the key is between its upload
// and its Merge meanwhile, then drops the intent. An upload the journal does
// not know was never acknowledged, so its copy in the origin is removed, or
// replaced by the journal's own version when that was in the origin (the
// upload overwrote it).
func (n *Node) settleIntent(ctx context.Context, key objstore.Key, v objstore.Version) error {
	unlock := n.lockKey(key)
	defer unlock()
	rec, err := n.journal.Get(ctx, key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		rec = objstore.Record{Deleted: true} // nothing known: like a tombstone
	case err != nil:
		return err
	case rec.Version == v:
		return n.journal.DeleteIntent(ctx, key, v) // committed after all
	case rec.Version.Compare(v) > 0 && !rec.Deleted && rec.InRemote:
		return n.journal.DeleteIntent(ctx, key, v) // a newer upload replaced it
	}
	got, err := n.remote.Stat(ctx, key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return n.journal.DeleteIntent(ctx, key, v)
	case err != nil:
		return err
	case got.Version != v:
		return n.journal.DeleteIntent(ctx, key, v) // never landed, or replaced
	}
	if err := n.settleOrphan(ctx, rec, got); err != nil {
		return err
	}
	return n.journal.DeleteIntent(ctx, key, v)
}

// settleOrphan deals with got, an object in the origin that the journal,
// whose record of the key is rec, does not know.
func (n *Node) settleOrphan(ctx context.Context, rec, got objstore.Record) error {
	if rec.Deleted || !rec.InRemote || rec.Version.Compare(got.Version) > 0 {
		n.log.Warn("removing unacknowledged upload from the origin", "key", got.Key, "version", got.Version)
		return n.remote.Delete(ctx, got.Key)
	}
	// The upload overwrote the journal's own copy in the origin: put that
	// back from the local body, or, when that body is gone, keep the upload
	// (its write happened; the overwritten bytes exist nowhere else).
	if n.blobs.Has(rec.Key, rec.BodyVersion) {
		n.log.Warn("restoring the origin copy an unacknowledged upload replaced", "key", rec.Key, "version", rec.Version)
		return n.restoreOrigin(ctx, rec)
	}
	n.log.Warn("adopting an unacknowledged upload: the copy it replaced is gone", "key", got.Key, "version", got.Version)
	got.InRemote = true
	if _, _, err := n.merge(ctx, got); err != nil {
		return err
	}
	n.replicate(got)
	return nil
}

// restoreOrigin uploads the local body of rec, a record the journal holds,
// again: no intent, as the journal knows this version.
func (n *Node) restoreOrigin(ctx context.Context, rec objstore.Record) error {
	f, err := n.blobs.Open(rec.Key, rec.BodyVersion, rec.Sum)
	if err != nil {
		return fmt.Errorf("local body: %w", err)
	}
	defer f.Close()
	return n.remote.Put(ctx, rec, f)
}
