package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/peerapi"
)

// How many goroutines merge records at once, so that the journal's group
// commit (bbolt Batch) puts many merges in one transaction: Apply, which
// both methods use, as a node might; the set-up as many as fill a batch.
const (
	applyWorkers = 64
	buildWorkers = 1000
)

// local is a peerapi.Local over a bare journal: Apply merges each record,
// and there are no bodies. It adds up the time spent in Apply and in the
// digest and leaf reads.
type local struct {
	j *journal.Store
	// filter makes Apply read each record first and merge only those newer
	// than the stored one, sparing the write transactions of no-op merges.
	filter        bool
	apply, digest *atomic.Int64 // nanoseconds
}

var _ peerapi.Local = local{}

func newLocal(j *journal.Store, filter bool) local {
	return local{j: j, filter: filter, apply: new(atomic.Int64), digest: new(atomic.Int64)}
}

// since adds the time since start to d.
func since(d *atomic.Int64, start time.Time) { d.Add(int64(time.Since(start))) }

// Apply merges recs with applyWorkers goroutines.
func (l local) Apply(ctx context.Context, recs []objstore.Record) error {
	defer since(l.apply, time.Now())
	if l.filter {
		var err error
		if recs, err = l.newer(ctx, recs); err != nil {
			return err
		}
	}
	return mergeAll(ctx, l.j, applyWorkers, len(recs), func(i int) objstore.Record { return recs[i] })
}

// newer returns the records of recs newer than the stored ones.
func (l local) newer(ctx context.Context, recs []objstore.Record) ([]objstore.Record, error) {
	var out []objstore.Record
	for _, rec := range recs {
		old, err := l.j.Get(ctx, rec.Key)
		switch {
		case errors.Is(err, objstore.ErrNotFound):
		case err != nil:
			return nil, err
		case old.Version.Compare(rec.Version) >= 0:
			continue
		}
		out = append(out, rec)
	}
	return out, nil
}

func (l local) GroupDigests(ctx context.Context) ([]uint64, error) {
	defer since(l.digest, time.Now())
	return l.j.GroupDigests(ctx)
}

func (l local) LeafDigests(ctx context.Context, groups []uint8) ([]uint64, error) {
	defer since(l.digest, time.Now())
	return l.j.LeafDigests(ctx, groups)
}

func (l local) LeafRecords(ctx context.Context, leaves []uint16, fn func(objstore.Record) bool) error {
	defer since(l.digest, time.Now())
	return l.j.LeafRecords(ctx, leaves, fn)
}

// ExchangeLeaves answers a leaves exchange as a node does.
func (l local) ExchangeLeaves(ctx context.Context, leaves []uint16, theirs []objstore.Record) ([]objstore.Record, error) {
	return node.ExchangeLeaves(ctx, l, leaves, theirs)
}

func (l local) OpenBody(context.Context, objstore.Key, objstore.Version) (io.ReadSeekCloser, objstore.Record, error) {
	return nil, objstore.Record{}, fmt.Errorf("synccost: no bodies here: %w", objstore.ErrNotFound)
}

// mergeAll merges the records rec(0)..rec(n-1) into j with the given
// number of goroutines, each taking every workers-th record.
func mergeAll(ctx context.Context, j *journal.Store, workers, n int, rec func(int) objstore.Record) error {
	g, ctx := errgroup.WithContext(ctx)
	for w := range min(workers, n) {
		g.Go(func() error {
			for i := w; i < n; i += workers {
				if _, _, err := j.Merge(ctx, rec(i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}
