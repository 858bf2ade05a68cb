package node

import (
	"context"
	"errors"
	"fmt"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/savings"
)

// Prefetch makes sure key's body is in the cache, as a GET would leave it,
// without serving it (warm-up). A body this node holds costs one journal
// read; a level-0 body held by the node that wrote it stays there (reads
// stream from it); any other body is read through from the origin by the
// node's fill, which Prefetch joins when one is in flight, and Prefetch
// returns once the body is on disk and verified. fetched is the size of a
// body that Prefetch's own fill brought from the origin, else 0. Errors wrap
// objstore.ErrNotFound, objstore.ErrDeleted or objstore.ErrNoRemote.
func (n *Node) Prefetch(ctx context.Context, key objstore.Key) (fetched int64, err error) {
	rec, err := n.journal.Get(ctx, key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
	case err != nil:
		return 0, fmt.Errorf("node: prefetch %s: %w", key, err)
	case rec.Deleted:
		return 0, fmt.Errorf("node: prefetch %s: %w", key, objstore.ErrDeleted)
	case n.blobs.Has(key, rec.BodyVersion), !rec.InRemote:
		return 0, nil
	}
	return n.prefetchFill(ctx, key)
}

// prefetchFill reads key through from the origin, as a miss does, and
// waits for the fill to end. A fill it started counts as warm-up.
func (n *Node) prefetchFill(ctx context.Context, key objstore.Key) (int64, error) {
	f, leader := n.fills.join(key)
	if leader {
		n.wg.Add(1)
		go n.runFill(key, f, nil)
	}
	defer f.release()
	select {
	case <-f.ready:
	case <-ctx.Done():
		return 0, fmt.Errorf("node: prefetch %s: %w", key, ctx.Err())
	}
	if f.startErr != nil {
		return 0, fmt.Errorf("node: prefetch %s: %w", key, f.startErr)
	}
	if err := f.wait(ctx); err != nil {
		return 0, fmt.Errorf("node: prefetch %s: %w", key, err)
	}
	if !leader {
		return 0, nil
	}
	n.countRead(key.Bucket, savings.Warm, f.rec.Size())
	return f.rec.Size(), nil
}

// wait blocks until the fill has ended or ctx is done, and returns the
// fill's error or ctx's.
func (f *fill) wait(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock() // so that the broadcast cannot fall between the check and Wait
		f.changed.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for !f.ended {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.changed.Wait()
	}
	return f.err
}
