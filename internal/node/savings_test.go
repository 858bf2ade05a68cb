package node

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/savings"
)

// Reads count by where they were served from: a fill this read started
// (origin), the disk, memory; a hot read also counts as a local hit.
func TestSavingsCountReadsBySource(t *testing.T) {
	remote := newMemRemote()
	a := openTestNode(t, t.TempDir(), remote, 0)
	key, body := newKey(), randomBody(1000)
	put(t, a, key, body, objstore.LevelS3)
	b := openTestNode(t, t.TempDir(), remote, 0)
	for i, want := range []Source{SourceRemote, SourceLocal, SourceLocal} {
		got, obj, err := read(t, b, key, true)
		if err != nil || !bytes.Equal(got, body) || obj.Source != want {
			t.Fatalf("read %d: err=%v source=%v, want %v", i, err, obj.Source, want)
		}
	}
	s, err := b.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := s.Savings.Buckets[key.Bucket]
	one := savings.Count{Requests: 1, Bytes: 1000}
	for _, k := range []savings.Kind{savings.Origin, savings.Disk, savings.Memory} {
		if c.Get(k) != one {
			t.Errorf("kind %d: %+v, want %+v", k, c.Get(k), one)
		}
	}
	if s.Hits.Local != 2 || s.Hits.Remote != 1 {
		t.Errorf("hits %+v, want 2 local (disk and memory) and 1 remote", s.Hits)
	}
	r := s.Savings.Report(savings.DefaultPrices())
	if r.Total.Avoided != (savings.Count{Requests: 2, Bytes: 2000}) || r.USDSaved <= 0 {
		t.Errorf("avoided %+v, saved $%v", r.Total.Avoided, r.USDSaved)
	}
}

// Prefetch reads a body through once, counts it as warm-up, and costs no
// origin GET when the body is already cached; the next read is a disk hit.
func TestPrefetch(t *testing.T) {
	remote := newMemRemote()
	a := openTestNode(t, t.TempDir(), remote, 0)
	key, body := newKey(), randomBody(300_000)
	put(t, a, key, body, objstore.LevelS3)
	b := openTestNode(t, t.TempDir(), remote, 0)
	ctx := context.Background()
	if got, err := b.Prefetch(ctx, key); err != nil || got != int64(len(body)) {
		t.Fatalf("first prefetch: %d bytes, %v", got, err)
	}
	gets := remote.gets.Load()
	if got, err := b.Prefetch(ctx, key); err != nil || got != 0 {
		t.Fatalf("second prefetch: %d bytes, %v", got, err)
	}
	if _, obj, err := read(t, b, key, false); err != nil || obj.Source != SourceLocal {
		t.Fatalf("read after prefetch: %v", err)
	}
	if remote.gets.Load() != gets {
		t.Fatalf("origin GETs %d → %d after the body was cached", gets, remote.gets.Load())
	}
	warm := b.Savings().Snapshot().Buckets[key.Bucket].Get(savings.Warm)
	if warm != (savings.Count{Requests: 1, Bytes: int64(len(body))}) {
		t.Fatalf("warm-up counted %+v", warm)
	}
	if _, err := b.Prefetch(ctx, newKey()); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("prefetch of a missing key: %v", err)
	}
	if _, err := a.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Prefetch(ctx, key); !errors.Is(err, objstore.ErrDeleted) {
		t.Fatalf("prefetch of a deleted key: %v", err)
	}
}

// A prefetch whose context ends while the origin holds the body returns.
func TestPrefetchStopsWithItsContext(t *testing.T) {
	remote := newMemRemote()
	a := openTestNode(t, t.TempDir(), remote, 0)
	key := newKey()
	put(t, a, key, randomBody(100_000), objstore.LevelS3)
	remote.gate = make(chan struct{})
	defer close(remote.gate)
	b := openTestNode(t, t.TempDir(), remote, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := b.Prefetch(ctx, key); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("prefetch: %v, want canceled", err)
	}
}

// Bodies the memory cache gives up for room count as memory evictions
// under their bucket.
func TestSavingsCountMemoryEvictionsPerBucket(t *testing.T) {
	c := newHotCache(16 << 10) // holds sixteen 1 KiB bodies
	c.tally = savings.New()
	const n, size = 40, 1 << 10
	for i := range n {
		bucket := []string{"alpha", "beta"}[i%2]
		rec := objstore.Record{Key: objstore.Key{Bucket: bucket, ID: newKey().ID}}
		c.put(c.ticket(rec.Key), rec, make([]byte, size), "")
	}
	held := c.policy.Stats().Entries
	snap := c.tally.Snapshot()
	var evicted int64
	for _, bucket := range []string{"alpha", "beta"} {
		got := snap.Buckets[bucket].Get(savings.EvictedMemory)
		if got.Requests == 0 || got.Bytes != got.Requests*size {
			t.Errorf("bucket %s: %+v, want some evictions of %d bytes each", bucket, got, size)
		}
		evicted += got.Requests
	}
	if evicted != int64(n-held) {
		t.Fatalf("%d memory evictions counted, want %d (%d put, %d held)", evicted, n-held, n, held)
	}
}
