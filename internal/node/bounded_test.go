package node

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/evict"
	"sphere.software/objstore/internal/savings"
)

// openBoundedNode is openTestNode with a disk quota that the node's cache
// policy bounds, no memory cache (every read goes to the disk path) and the
// policy's state kept in the state dir.
func openBoundedNode(t testing.TB, dir string, remote *memRemote, quota int64, opts evict.Options) *testNode {
	t.Helper()
	cache := CacheConfig{Capacity: quota, Policy: opts, StateFile: filepath.Join(dir, "state", "cache.policy")}
	return openNode(t, dir, remote, nodeSetup{cfg: Config{Cache: cache}, disk: disk.Config{Quota: quota}})
}

func mustRead(t *testing.T, n *testNode, key objstore.Key, want []byte) *Object {
	t.Helper()
	got, obj, err := read(t, n, key, false)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("get %s: %d bytes, not the %d written", key, len(got), len(want))
	}
	return obj
}

func heldBytes(t *testing.T, n *testNode) int64 {
	t.Helper()
	u, err := n.blobs.Usage()
	if err != nil {
		t.Fatal(err)
	}
	return u.Bodies
}

func TestBoundedWritesEvictBodiesInTheOrigin(t *testing.T) {
	const quota = 100 << 10
	n := openBoundedNode(t, t.TempDir(), newMemRemote(), quota, evict.Options{})
	keys, bodies := make([]objstore.Key, 10), make([][]byte, 10)
	for i := range keys {
		keys[i], bodies[i] = newKey(), randomBody(20<<10)
		put(t, n, keys[i], bodies[i], objstore.LevelS3)
		if h := heldBytes(t, n); h > quota {
			t.Fatalf("after %d puts the disk holds %d bytes, over the quota of %d", i+1, h, quota)
		}
	}
	for i := range keys {
		mustRead(t, n, keys[i], bodies[i])
	}
	st, err := n.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Cache == nil || st.Cache.Evictions == 0 || st.Hits.Remote == 0 {
		t.Fatalf("stats %+v, cache %+v: want evictions and reads back from the origin", st.Hits, st.Cache)
	}
}

func TestBoundedNeverEvictsTheOnlyCopy(t *testing.T) {
	const quota = 100 << 10
	n := openBoundedNode(t, t.TempDir(), newMemRemote(), quota, evict.Options{})
	safe := newKey()
	put(t, n, safe, randomBody(30<<10), objstore.LevelS3)
	keys, bodies := make([]objstore.Key, 4), make([][]byte, 4)
	for i := range keys {
		keys[i], bodies[i] = newKey(), randomBody(20<<10)
		put(t, n, keys[i], bodies[i], objstore.LevelLocal)
	}
	_, err := n.Put(context.Background(), PutRequest{Key: newKey(), Level: objstore.LevelLocal, Size: 30 << 10, Body: bytes.NewReader(randomBody(30 << 10))})
	if !errors.Is(err, objstore.ErrInsufficientStorage) {
		t.Fatalf("a put with only sole copies left: %v, want ErrInsufficientStorage", err)
	}
	for i := range keys {
		mustRead(t, n, keys[i], bodies[i])
	}
	if st, _ := n.Stats(context.Background()); st.Cache.Pinned != len(keys) {
		t.Fatalf("pinned %d, want the %d level-0 bodies", st.Cache.Pinned, len(keys))
	}
}

func TestBoundedTooBigStreamsThroughUncached(t *testing.T) {
	const quota = 100 << 10
	remote := newMemRemote()
	n := openBoundedNode(t, t.TempDir(), remote, quota, evict.Options{MaxObjectFraction: 0.5})
	big, body := newKey(), randomBody(60<<10)
	rec := put(t, n, big, body, objstore.LevelS3)
	n.dropBody(rec) // as if evicted: the record stays
	for range 2 {
		obj := mustRead(t, n, big, body)
		if obj.Source != SourceRemote {
			t.Fatalf("source %v, want the origin", obj.Source)
		}
	}
	if n.blobs.Has(big, rec.BodyVersion) {
		t.Fatal("an object over the max object fraction was cached")
	}
}

// Staged parts (booked on the store, unknown to the policy) fill the
// quota while a read-through is admitted: its local copy fails, and the
// read goes on from the origin to the last byte.
func TestBoundedFullDiskNeverFailsARead(t *testing.T) {
	const quota = 100 << 10
	n := openBoundedNode(t, t.TempDir(), newMemRemote(), quota, evict.Options{MaxObjectFraction: 1})
	key, body := newKey(), randomBody(40<<10)
	rec := put(t, n, key, body, objstore.LevelS3)
	n.dropBody(rec)
	if err := n.blobs.Reserve(quota - 10<<10); err != nil {
		t.Fatal(err)
	}
	obj := mustRead(t, n, key, body)
	if obj.Err() != nil {
		t.Fatalf("read ended with %v", obj.Err())
	}
	obj.Close()
	if n.blobs.Has(key, rec.BodyVersion) {
		t.Fatal("body cached although the disk was full")
	}
	// The read went on from the origin with a GET of its own: counted.
	if st, _ := n.Stats(context.Background()); st.OriginGets != (OriginGets{Fills: 1, Streams: 1}) {
		t.Fatalf("origin GETs %+v, want the fill's and the stream's", st.OriginGets)
	}
}

func TestBoundedPolicyStateSurvivesRestart(t *testing.T) {
	const quota = 100 << 10
	dir, remote := t.TempDir(), newMemRemote()
	n := openBoundedNode(t, dir, remote, quota, evict.Options{})
	hot, hotBody := newKey(), randomBody(20<<10)
	put(t, n, hot, hotBody, objstore.LevelS3)
	only := put(t, n, newKey(), randomBody(10<<10), objstore.LevelLocal)
	for range 3 {
		mustRead(t, n, hot, hotBody)
	}
	n.close()
	n = openBoundedNode(t, dir, remote, quota, evict.Options{})
	<-n.swept
	st, err := n.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Cache.Restored != 2 || st.Cache.Entries != 2 || st.Cache.Pinned != 1 {
		t.Fatalf("after restart: %+v, want 2 entries restored, the level-0 one pinned again", st.Cache)
	}
	// A scan of safe bodies larger than the quota leaves the hot body and
	// the only copy in place.
	for range 8 {
		put(t, n, newKey(), randomBody(20<<10), objstore.LevelS3)
	}
	if obj := mustRead(t, n, hot, hotBody); obj.Source != SourceLocal {
		t.Fatalf("hot body source %v after a scan, want local", obj.Source)
	}
	if !n.blobs.Has(only.Key, only.BodyVersion) {
		t.Fatal("the only copy was evicted")
	}
}

// Evictions count in the savings under each body's bucket (the policy's
// entries carry a bucket tag), and the tags survive a restart through the
// policy's snapshot.
func TestBoundedEvictionsPerBucket(t *testing.T) {
	const quota, size = 100 << 10, 20 << 10
	dir, remote := t.TempDir(), newMemRemote()
	n := openBoundedNode(t, dir, remote, quota, evict.Options{})
	putIn := func(n *testNode, bucket string, count int) {
		for range count {
			key := objstore.Key{Bucket: bucket, ID: newKey().ID}
			put(t, n, key, randomBody(size), objstore.LevelS3)
		}
	}
	putIn(n, "alpha", 5) // fills the quota
	putIn(n, "beta", 3)  // evicts three of alpha's
	putIn(n, "alpha", 2) // evicts two more of alpha's (the oldest)
	want := map[string]int64{"alpha": 5}
	checkEvictionsByBucket(t, n, want)

	n.close()
	n = openBoundedNode(t, dir, remote, quota, evict.Options{})
	<-n.swept
	putIn(n, "gamma", 5) // evicts the five restored: beta's three and alpha's two
	checkEvictionsByBucket(t, n, map[string]int64{"alpha": 2, "beta": 3})
}

// checkEvictionsByBucket checks the savings' disk evictions per bucket
// against want, and their sum against the cache's own totals.
func checkEvictionsByBucket(t *testing.T, n *testNode, want map[string]int64) {
	t.Helper()
	st, err := n.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := st.Savings.Report(savings.Prices{})
	var count, bytes int64
	for bucket, b := range r.ByBucket {
		if b.Evictions.Disk.Requests != want[bucket] {
			t.Errorf("bucket %s: %d evictions, want %d", bucket, b.Evictions.Disk.Requests, want[bucket])
		}
		count += b.Evictions.Disk.Requests
		bytes += b.Evictions.Disk.Bytes
	}
	for bucket, w := range want {
		if _, ok := r.ByBucket[bucket]; !ok && w > 0 {
			t.Errorf("bucket %s: no counts, want %d evictions", bucket, w)
		}
	}
	if count != st.Cache.Evictions || bytes != st.Cache.EvictedBytes {
		t.Errorf("savings count %d evictions of %d bytes, the cache %d of %d", count, bytes, st.Cache.Evictions, st.Cache.EvictedBytes)
	}
}
