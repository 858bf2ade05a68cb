package node

import (
	"bytes"
	"context"
	"io"
	"testing"

	"sphere.software/objstore"
)

// TestPutThatFinishesLastWins: a PUT that began first but whose body
// completes after another PUT of the same key is the object, on the node and
// in the origin, as on S3 (ceph s3-tests test_atomic_dual_write_*). Its body
// keeps the version it was created under.
func TestPutThatFinishesLastWins(t *testing.T) {
	remote := newMemRemote()
	tn := openTestNode(t, t.TempDir(), remote, 0)
	key := newKey()
	a, b := randomBody(64<<10), randomBody(64<<10)
	pr, pw := io.Pipe()
	type result struct {
		rec objstore.Record
		err error
	}
	done := make(chan result, 1)
	go func() {
		rec, err := tn.Put(context.Background(), PutRequest{Key: key, Name: "a", Level: objstore.LevelS3, Size: int64(len(a)), Body: pr})
		done <- result{rec, err}
	}()
	// Once the first half is taken, A's write has begun.
	if _, err := pw.Write(a[:len(a)/2]); err != nil {
		t.Fatal(err)
	}
	recB := put(t, tn, key, b, objstore.LevelS3)
	if _, err := pw.Write(a[len(a)/2:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	ra := <-done
	if ra.err != nil {
		t.Fatalf("put A: %v", ra.err)
	}
	if ra.rec.Version.Compare(recB.Version) <= 0 {
		t.Fatalf("A's version %v is not newer than B's %v", ra.rec.Version, recB.Version)
	}
	if ra.rec.BodyVersion.Compare(recB.BodyVersion) >= 0 {
		t.Fatalf("A's body version %v is not older than B's %v: it should be the one taken when A began", ra.rec.BodyVersion, recB.BodyVersion)
	}
	got, _, err := read(t, tn, key, false)
	if err != nil || !bytes.Equal(got, a) {
		t.Fatalf("GET: A's bytes=%v B's bytes=%v err=%v", bytes.Equal(got, a), bytes.Equal(got, b), err)
	}
	body, orec, err := remote.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("origin GET: %v", err)
	}
	defer body.Close()
	if ob, err := io.ReadAll(body); err != nil || !bytes.Equal(ob, a) || orec.Version != ra.rec.Version || orec.BodyVersion != ra.rec.BodyVersion {
		t.Fatalf("origin: A's bytes=%v version %v/%v, want %v/%v (%v)", bytes.Equal(ob, a), orec.Version, orec.BodyVersion,
			ra.rec.Version, ra.rec.BodyVersion, err)
	}
}
