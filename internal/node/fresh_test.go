package node

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/savings"
)

// GetIfNoneMatch makes memRemote a Revalidator, with S3's rule: the ETag
// is the MD5 of the body.
func (m *memRemote) GetIfNoneMatch(ctx context.Context, key objstore.Key, etag string) (io.ReadCloser, objstore.Record, error) {
	if err := m.down("conditional get"); err != nil {
		return nil, objstore.Record{}, err
	}
	o, err := m.lookup(key)
	if err != nil {
		return nil, objstore.Record{}, err
	}
	if (objstore.Checksum{MD5: md5.Sum(o.body)}).ETag() == etag {
		return nil, objstore.Record{}, fmt.Errorf("mem: %s: %w", key, objstore.ErrNotModified)
	}
	return m.Get(ctx, key)
}

// writeForeign puts body in the origin as another tool would, modified at.
func (m *memRemote) writeForeign(key objstore.Key, body []byte, at time.Time) {
	v := objstore.ForeignVersion(at)
	rec := objstore.Record{Key: key, Name: "f.txt", Level: objstore.LevelS3, InRemote: true, Version: v, BodyVersion: v,
		Sum: objstore.Checksum{Size: int64(len(body)), MD5: md5.Sum(body)}}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = memObject{rec: rec, body: bytes.Clone(body)}
}

// fakeClock is a wall clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newFreshNode is a test node with the given TTL and stale bound, whose
// freshness runs on a clock the test moves.
func newFreshNode(t *testing.T, ttl, stale time.Duration) (*testNode, *fakeClock) {
	t.Helper()
	tn := openNode(t, t.TempDir(), newMemRemote(), nodeSetup{cfg: Config{HotCacheBytes: 4 << 20, OriginTTL: ttl, StaleIfError: stale}})
	clock := &fakeClock{t: time.Now()}
	tn.fresh.now = clock.now
	return tn, clock
}

// mustRead reads key (fetching it from the origin when unknown) and checks
// its body.
// mustFetch reads key with X-Meta-Fetch semantics (through to the origin on a miss).
func mustFetch(t *testing.T, n *testNode, key objstore.Key, want []byte) *Object {
	t.Helper()
	got, obj, err := read(t, n, key, true)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("get %s: %q, want %q", key, got, want)
	}
	return obj
}

// TestRevalidate shows the TTL at work on an object read through: served
// without asking the origin until the TTL passes, then a conditional GET
// whose 304 keeps the body, whose 200 replaces it and whose 404 removes it.
func TestRevalidate(t *testing.T) {
	n, clock := newFreshNode(t, time.Minute, time.Hour)
	key := newKey()
	n.remote.writeForeign(key, []byte("version one"), time.Now().Add(-time.Hour))
	mustFetch(t, n, key, []byte("version one"))
	mustFetch(t, n, key, []byte("version one"))
	if got := n.remote.gets.Load(); got != 1 {
		t.Fatalf("origin GETs within the TTL: %d, want 1", got)
	}

	clock.add(2 * time.Minute)
	mustFetch(t, n, key, []byte("version one"))
	if s := n.FreshStats(); s.NotModified != 1 || n.remote.gets.Load() != 1 {
		t.Fatalf("after the TTL, unchanged: %+v and %d GETs; want one 304 and no new GET", s, n.remote.gets.Load())
	}

	old, _ := n.Head(context.Background(), key)
	n.remote.writeForeign(key, []byte("version two, changed"), time.Now().Add(-time.Hour)) // same clock second as before
	mustFetch(t, n, key, []byte("version one"))                                            // within the TTL again
	clock.add(2 * time.Minute)
	mustFetch(t, n, key, []byte("version two, changed"))
	cur, _ := n.Head(context.Background(), key)
	if s := n.FreshStats(); s.Replaced != 1 || cur.Version.Compare(old.Version) <= 0 || n.blobs.Has(key, old.BodyVersion) {
		t.Fatalf("after a change: %+v, version %v over %v, old body kept %v", s, cur.Version, old.Version, n.blobs.Has(key, old.BodyVersion))
	}
	// The savings count the 304 (a body kept) and the 200 (a full re-fetch).
	tot := n.Savings().Snapshot().Total()
	if nm, rf := tot.Get(savings.NotModified), tot.Get(savings.Refetched); nm.Requests != 1 || rf.Requests != 1 || rf.Bytes != int64(len("version two, changed")) {
		t.Fatalf("savings: 304s %+v, re-fetches %+v; want one each, the re-fetch of the new body's size", nm, rf)
	}

	if err := n.remote.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	clock.add(2 * time.Minute)
	if _, _, err := read(t, n, key, true); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("get after the origin removed it: %v, want not found", err)
	}
	if rec, err := n.Head(context.Background(), key); err != nil || !rec.Deleted {
		t.Fatalf("record after the origin removed it: %+v, %v; want a tombstone", rec, err)
	}
}

// TestRevalidateOwnWritesNot shows that an object written through objstore
// is authoritative: the TTL never sends a conditional GET for it.
func TestRevalidateOwnWritesNot(t *testing.T) {
	n, clock := newFreshNode(t, time.Minute, time.Hour)
	key := newKey()
	put(t, n, key, []byte("ours"), objstore.LevelS3)
	clock.add(time.Hour)
	mustFetch(t, n, key, []byte("ours"))
	if s := n.FreshStats(); s != (FreshStats{}) {
		t.Fatalf("revalidations of an own write: %+v", s)
	}
}

// TestStaleIfError shows a body served marked stale while the origin is
// down, within the bound, and refused past it.
func TestStaleIfError(t *testing.T) {
	n, clock := newFreshNode(t, time.Minute, 10*time.Minute)
	key := newKey()
	n.remote.writeForeign(key, []byte("cached"), time.Now())
	if obj := mustFetch(t, n, key, []byte("cached")); obj.Stale {
		t.Fatal("a fresh read is marked stale")
	}
	n.remote.fail.Store(true)
	clock.add(5 * time.Minute)
	if obj := mustFetch(t, n, key, []byte("cached")); !obj.Stale {
		t.Fatal("a body served with the origin down is not marked stale")
	}
	clock.add(10 * time.Minute)
	if _, _, err := read(t, n, key, true); !errors.Is(err, objstore.ErrNoRemote) {
		t.Fatalf("get past the stale bound: %v, want ErrNoRemote", err)
	}
	n.remote.fail.Store(false)
	if obj := mustFetch(t, n, key, []byte("cached")); obj.Stale {
		t.Fatal("a revalidated body is marked stale")
	}
}

func TestConfigRejectsNegativeTTL(t *testing.T) {
	for _, cfg := range []Config{{NodeID: "a", OriginTTL: -time.Second}, {NodeID: "a", StaleIfError: -time.Second}} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", cfg)
		}
	}
}

// TestOriginChanged shows event-driven invalidation and what wins when
// the origin changes behind an object objstore wrote.
func TestOriginChanged(t *testing.T) {
	ctx := context.Background()
	t.Run("echo of our own upload changes nothing", func(t *testing.T) {
		n, _ := newFreshNode(t, 0, 0)
		key := newKey()
		rec := put(t, n, key, []byte("ours"), objstore.LevelS3)
		if changed, err := n.OriginChanged(ctx, key, time.Now()); err != nil || changed {
			t.Fatalf("OriginChanged = %v, %v; want no change", changed, err)
		}
		if cur, _ := n.Head(ctx, key); cur.Version != rec.Version {
			t.Fatalf("record changed to %+v", cur)
		}
	})
	t.Run("a direct change in the origin wins over our write", func(t *testing.T) {
		n, _ := newFreshNode(t, 0, 0)
		key := newKey()
		rec := put(t, n, key, []byte("ours"), objstore.LevelS3)
		// Modified a second before our write by the origin's coarse clock,
		// yet made after it.
		n.remote.writeForeign(key, []byte("theirs, newer"), rec.Modified().Add(-time.Second))
		if changed, err := n.OriginChanged(ctx, key, time.Now()); err != nil || !changed {
			t.Fatalf("OriginChanged = %v, %v; want a change", changed, err)
		}
		mustFetch(t, n, key, []byte("theirs, newer"))
		cur, _ := n.Head(ctx, key)
		if !cur.Version.IsForeign() || cur.Version.Compare(rec.Version) <= 0 {
			t.Fatalf("record %+v does not supersede %v", cur.Version, rec.Version)
		}
		// A later write through objstore wins again.
		put(t, n, key, []byte("ours again"), objstore.LevelS3)
		mustFetch(t, n, key, []byte("ours again"))
	})
	t.Run("removed in the origin", func(t *testing.T) {
		n, _ := newFreshNode(t, 0, 0)
		key := newKey()
		n.remote.writeForeign(key, []byte("read through"), time.Now())
		mustFetch(t, n, key, []byte("read through"))
		if err := n.remote.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if changed, err := n.OriginChanged(ctx, key, time.Now()); err != nil || !changed {
			t.Fatalf("OriginChanged = %v, %v; want a change", changed, err)
		}
		if _, _, err := read(t, n, key, true); !errors.Is(err, objstore.ErrDeleted) {
			t.Fatalf("get after removal: %v, want ErrDeleted", err)
		}
	})
	t.Run("a late removal never deletes a write the origin never had", func(t *testing.T) {
		n, _ := newFreshNode(t, 0, 0)
		key := newKey()
		put(t, n, key, []byte("level 0"), objstore.LevelLocal)
		if changed, err := n.OriginChanged(ctx, key, time.Now().Add(time.Hour)); err != nil || changed {
			t.Fatalf("OriginChanged = %v, %v; want no change", changed, err)
		}
		mustFetch(t, n, key, []byte("level 0"))
	})
	t.Run("origin down", func(t *testing.T) {
		n, _ := newFreshNode(t, 0, 0)
		n.remote.fail.Store(true)
		if _, err := n.OriginChanged(ctx, newKey(), time.Now()); !errors.Is(err, objstore.ErrNoRemote) {
			t.Fatalf("OriginChanged with the origin down: %v, want ErrNoRemote", err)
		}
	})
}

// Two nodes that fill a key from the origin over the same record, each
// reading another body (the origin changed again between their reads),
// name the bodies with different versions, both newer than the record;
// nodes that read the same body name it alike.
func TestOriginFillsOfDifferentBodiesGetDifferentVersions(t *testing.T) {
	n := newTestNode(t, 0)
	key := newKey()
	cur := put(t, n, key, randomBody(100), objstore.LevelS3)
	modified := time.Now().Add(-time.Hour) // one LastModified: each fill reads the same origin object
	origin := func(b byte) objstore.Record {
		rec := objstore.Record{Key: key, InRemote: true, Version: objstore.ForeignVersion(modified)}
		rec.Sum = objstore.Checksum{Size: 100, MD5: objstore.MD5{b}}
		rec.BodyVersion = rec.Version
		return rec
	}
	ctx := context.Background()
	x, err := n.placeOrigin(ctx, origin(1))
	if err != nil {
		t.Fatal(err)
	}
	y, err := n.placeOrigin(ctx, origin(2))
	if err != nil {
		t.Fatal(err)
	}
	x2, err := n.placeOrigin(ctx, origin(1))
	if err != nil {
		t.Fatal(err)
	}
	if x.Version.Compare(cur.Version) <= 0 || y.Version.Compare(cur.Version) <= 0 {
		t.Fatalf("fills %v and %v not newer than the record %v", x.Version, y.Version, cur.Version)
	}
	if x.BodyVersion == y.BodyVersion {
		t.Fatalf("two different bodies both named %v", x.BodyVersion)
	}
	if x2.BodyVersion != x.BodyVersion {
		t.Fatalf("one body named %v and %v", x.BodyVersion, x2.BodyVersion)
	}
}
