package peerapi

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
)

// fakeLocal is an in-memory Local: a map of records, digests computed from
// the map on every call, and bodies kept in files.
type fakeLocal struct {
	dir string

	mu      sync.Mutex // guards recs, bodies and applied
	recs    map[objstore.Key]objstore.Record
	bodies  map[bodyID][]byte
	applied int // Apply calls
}

type bodyID struct {
	key objstore.Key
	v   objstore.Version
}

func newFake(tb testing.TB) *fakeLocal {
	tb.Helper()
	return &fakeLocal{dir: tb.TempDir(), recs: make(map[objstore.Key]objstore.Record), bodies: make(map[bodyID][]byte)}
}

// put stores rec as it is, replacing what the key had.
func (f *fakeLocal) put(rec objstore.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs[rec.Key] = rec
}

func (f *fakeLocal) putBody(key objstore.Key, v objstore.Version, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[bodyID{key, v}] = body
}

// snapshot returns a copy of the records.
func (f *fakeLocal) snapshot() map[objstore.Key]objstore.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.recs)
}

func (f *fakeLocal) applyCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied
}

func (f *fakeLocal) Apply(_ context.Context, recs []objstore.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied++
	for _, rec := range recs {
		if old, ok := f.recs[rec.Key]; ok {
			rec = objstore.Merge(old, rec)
		}
		f.recs[rec.Key] = rec
	}
	return nil
}

// leafDigests computes every leaf digest from the map.
func (f *fakeLocal) leafDigests() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	ds := make([]uint64, objstore.DigestLeaves)
	for _, rec := range f.recs {
		ds[objstore.LeafOf(rec.Key)] ^= objstore.RecordHash(rec)
	}
	return ds
}

func (f *fakeLocal) GroupDigests(context.Context) ([]uint64, error) {
	gs := make([]uint64, objstore.DigestGroups)
	for leaf, d := range f.leafDigests() {
		gs[objstore.GroupOf(uint16(leaf))] ^= d
	}
	return gs, nil
}

func (f *fakeLocal) LeafDigests(_ context.Context, groups []uint8) ([]uint64, error) {
	all := f.leafDigests()
	var ds []uint64
	for _, g := range groups {
		start := int(g) * objstore.LeavesPerGroup
		ds = append(ds, all[start:start+objstore.LeavesPerGroup]...)
	}
	return ds, nil
}

func (f *fakeLocal) LeafRecords(_ context.Context, leaves []uint16, fn func(objstore.Record) bool) error {
	f.mu.Lock()
	var recs []objstore.Record
	for _, rec := range f.recs {
		if slices.Contains(leaves, objstore.LeafOf(rec.Key)) {
			recs = append(recs, rec)
		}
	}
	f.mu.Unlock()
	for _, rec := range recs {
		if !fn(rec) {
			break
		}
	}
	return nil
}

// ExchangeLeaves answers as a node does.
func (f *fakeLocal) ExchangeLeaves(ctx context.Context, leaves []uint16, theirs []objstore.Record) ([]objstore.Record, error) {
	return node.ExchangeLeaves(ctx, f, leaves, theirs)
}

func (f *fakeLocal) OpenBody(_ context.Context, key objstore.Key, v objstore.Version) (io.ReadSeekCloser, objstore.Record, error) {
	f.mu.Lock()
	body, ok := f.bodies[bodyID{key, v}]
	rec := f.recs[key]
	f.mu.Unlock()
	if !ok {
		return nil, objstore.Record{}, fmt.Errorf("fake: body %s at %s: %w", key, v, objstore.ErrNotFound)
	}
	tmp, err := os.CreateTemp(f.dir, "body")
	if err != nil {
		return nil, objstore.Record{}, err
	}
	if _, err := tmp.Write(body); err != nil {
		_ = tmp.Close()
		return nil, objstore.Record{}, err
	}
	if err := tmp.Close(); err != nil {
		return nil, objstore.Record{}, err
	}
	file, err := os.Open(filepath.Clean(tmp.Name()))
	return file, rec, err
}
