package node

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/journal"
)

// crashedUpload does what a level-1 PUT of body does up to its upload and
// stops there, as kill -9 would before the record's commit.
func crashedUpload(t *testing.T, n *testNode, key objstore.Key, body []byte) objstore.Record {
	t.Helper()
	ctx := context.Background()
	rec := objstore.Record{Key: key, Name: "f.txt", Level: objstore.LevelS3, Version: n.newVersion(),
		Sum: objstore.Checksum{Size: int64(len(body))}}
	rec.BodyVersion = rec.Version
	superseded, err := n.upload(ctx, rec, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if superseded {
		t.Fatalf("upload of %s superseded", rec.Version)
	}
	return rec
}

func intentCount(t *testing.T, n *testNode) int {
	t.Helper()
	c := 0
	if err := n.j.Intents(context.Background(), func(objstore.Key, objstore.Version) bool { c++; return true }); err != nil {
		t.Fatal(err)
	}
	return c
}

// reopen closes n and opens a node on the same directory and origin, as a
// restart after a crash would.
func reopen(t *testing.T, n *testNode) *testNode {
	t.Helper()
	n.close()
	return openTestNode(t, n.dir, n.remote, 0)
}

// An upload cut before its commit is removed from the origin at the next
// start; a committed one stays.
func TestOrphanRemovedAtStart(t *testing.T) {
	n := newTestNode(t, 0)
	orphan, kept := newKey(), newKey()
	body := randomBody(1000)
	put(t, n, kept, body, objstore.LevelS3)
	crashedUpload(t, n, orphan, randomBody(500))
	if !n.remote.has(orphan) || intentCount(t, n) != 1 {
		t.Fatalf("before restart: origin has orphan %v, intents %d", n.remote.has(orphan), intentCount(t, n))
	}
	n = reopen(t, n)
	eventually(t, "orphan removed", func() bool { return !n.remote.has(orphan) && intentCount(t, n) == 0 })
	if got, _, err := read(t, n, kept, false); err != nil || !bytes.Equal(got, body) || !n.remote.has(kept) {
		t.Fatalf("committed object: err=%v equal=%v in origin=%v", err, bytes.Equal(got, body), n.remote.has(kept))
	}
}

// An upload that overwrote the origin copy of an older committed version is
// replaced by that version again, from the local body.
func TestOrphanRestoresOverwrittenVersion(t *testing.T) {
	n := newTestNode(t, 0)
	key, body := newKey(), randomBody(2000)
	old := put(t, n, key, body, objstore.LevelS3)
	crashedUpload(t, n, key, randomBody(700))
	n = reopen(t, n)
	eventually(t, "origin restored", func() bool {
		rec, err := n.remote.Stat(context.Background(), key)
		return err == nil && rec.Version == old.Version && intentCount(t, n) == 0
	})
	o, _ := n.remote.lookup(key)
	if !bytes.Equal(o.body, body) {
		t.Fatal("origin holds other bytes than the committed version's")
	}
}

// failingJournal fails every Merge while fail is set.
type failingJournal struct {
	*journal.Store
	fail bool
}

func (f *failingJournal) Merge(ctx context.Context, rec objstore.Record) (objstore.Record, bool, error) {
	if f.fail {
		return objstore.Record{}, false, errors.New("injected journal failure")
	}
	return f.Store.Merge(ctx, rec)
}

// A PUT whose upload succeeds and whose commit fails leaves nothing in the
// origin, without a restart.
func TestOrphanAfterCommitFailure(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(filepath.Join(dir, "journal.db"), journal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := disk.Open(filepath.Join(dir, "files"), disk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	remote := newMemRemote()
	fj := &failingJournal{Store: j, fail: true}
	n, err := New(context.Background(), Config{NodeID: j.NodeID()}, fj, AdaptBlobs(blobs), remote)
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{Node: n, remote: remote, j: j, blobs: blobs, dir: dir}
	t.Cleanup(tn.close)
	key := newKey()
	body := randomBody(300)
	_, err = n.Put(context.Background(), PutRequest{Key: key, Level: objstore.LevelS3, Size: int64(len(body)), Body: bytes.NewReader(body)})
	if err == nil {
		t.Fatal("put succeeded with a failing journal")
	}
	eventually(t, "orphan removed", func() bool { return !remote.has(key) && intentCount(t, tn) == 0 })
}

// While the origin is down the intent stays; once it is back, the
// reconciler's retry removes the orphan.
func TestOrphanOriginDown(t *testing.T) {
	saved := orphanRetryMin
	t.Cleanup(func() { orphanRetryMin = saved }) // runs after the nodes' cleanups
	orphanRetryMin = 10 * time.Millisecond
	n := newTestNode(t, 0)
	key := newKey()
	crashedUpload(t, n, key, randomBody(100))
	n.remote.fail.Store(true)
	n = reopen(t, n)
	if err := n.reconcile(context.Background()); !errors.Is(err, objstore.ErrNoRemote) {
		t.Fatalf("reconcile with the origin down: %v", err)
	}
	if intentCount(t, n) != 1 || !n.remote.has(key) {
		t.Fatalf("origin down: intents %d, origin has it %v", intentCount(t, n), n.remote.has(key))
	}
	n.remote.fail.Store(false)
	eventually(t, "orphan removed after the origin came back", func() bool {
		return !n.remote.has(key) && intentCount(t, n) == 0
	})
}
