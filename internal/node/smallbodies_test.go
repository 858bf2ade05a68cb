package node

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
)

// failingSync is a body store whose SyncAll always fails, as if the
// machine stopped before any sync of the files: the small bodies' copies
// stay in the journal.
type failingSync struct{ Blobs }

func (failingSync) SyncAll() error { return errors.New("injected: the sync never happened") }

// journalBodies is what the journal keeps of small bodies, by reference.
func journalBodies(t *testing.T, tn *testNode) map[objstore.BodyRef][]byte {
	t.Helper()
	got := map[objstore.BodyRef][]byte{}
	if err := tn.j.Bodies(context.Background(), func(ref objstore.BodyRef, body []byte) bool {
		got[ref] = bytes.Clone(body)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// A small level-0 body is durable through the journal: when power loss
// tears or removes its unsynced file, the restart writes it again from the
// journal before serving, and nothing is read from the origin (which never
// had it). A body overwritten before the crash is not written again, and a
// body too large for the journal is not kept there.
func TestSmallBodiesSurvivePowerLossThroughTheJournal(t *testing.T) {
	dir, remote := t.TempDir(), newMemRemote()
	crashing := nodeSetup{blobs: func(b Blobs) Blobs { return failingSync{b} }}
	tn := openNode(t, dir, remote, crashing)
	torn, tornBody := newKey(), randomBody(9_000)
	gone, goneBody := newKey(), randomBody(DefaultSmallBodyMax)
	over := newKey()
	overOld := put(t, tn, over, randomBody(100), objstore.LevelLocal)
	overBody := randomBody(200)
	big, bigBody := newKey(), randomBody(DefaultSmallBodyMax+1)
	tornRec := put(t, tn, torn, tornBody, objstore.LevelLocal)
	goneRec := put(t, tn, gone, goneBody, objstore.LevelLocal)
	overRec := put(t, tn, over, overBody, objstore.LevelLocal)
	put(t, tn, big, bigBody, objstore.LevelLocal)
	backRec, err := tn.Put(context.Background(), PutRequest{Key: newKey(), Level: objstore.LevelS3, WriteBack: true, Size: 300, Body: bytes.NewReader(randomBody(300))})
	if err != nil {
		t.Fatal(err)
	}

	kept := journalBodies(t, tn)
	for _, rec := range []objstore.Record{tornRec, goneRec, overRec, overOld, backRec} {
		if _, ok := kept[objstore.BodyRef{Key: rec.Key, Version: rec.BodyVersion}]; !ok {
			t.Fatalf("body of %s (%d bytes) not kept in the journal", rec.Key, rec.Sum.Size)
		}
	}
	if len(kept) != 5 {
		t.Fatalf("journal keeps %d bodies, want 5 (not the one over %d bytes)", len(kept), DefaultSmallBodyMax)
	}
	tn.close()
	if err := os.Truncate(bodyPath(tn, torn, tornRec.BodyVersion), 100); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(bodyPath(tn, gone, goneRec.BodyVersion)); err != nil {
		t.Fatal(err)
	}

	tn = openNode(t, dir, remote, nodeSetup{})
	for _, c := range []struct {
		key  objstore.Key
		want []byte
	}{{torn, tornBody}, {gone, goneBody}, {over, overBody}, {big, bigBody}} {
		got, _, err := read(t, tn, c.key, false)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("read %s after power loss: %d bytes, equal %v, err %v", c.key, len(got), bytes.Equal(got, c.want), err)
		}
	}
	if got := remote.gets.Load(); got != 0 { // the write-back body was uploaded, never read
		t.Errorf("%d origin GETs: the bodies must come from the journal", got)
	}
	if tn.blobs.Has(over, overOld.BodyVersion) {
		t.Error("the overwritten body was written again")
	}
	if kept := journalBodies(t, tn); len(kept) != 0 {
		t.Errorf("journal still keeps %d bodies after the restart wrote them", len(kept))
	}
}

// Without a crash, the copies leave the journal once a sync has made their
// files durable.
func TestSmallBodiesLeaveTheJournalOnceSynced(t *testing.T) {
	tn := openTestNode(t, t.TempDir(), newMemRemote(), 0)
	for range 10 {
		put(t, tn, newKey(), randomBody(4096), objstore.LevelLocal)
	}
	rec, err := tn.Put(context.Background(), PutRequest{Key: newKey(), Level: objstore.LevelS3, WriteBack: true, Size: 4096, Body: bytes.NewReader(randomBody(4096))})
	if err != nil {
		t.Fatal(err)
	}
	if rec.InRemote {
		t.Fatal("write-back PUT in the origin at once")
	}
	eventually(t, "the journal drops the synced bodies", func() bool { return len(journalBodies(t, tn)) == 0 })
}

// Copies left in the journal by a crash are written again even when the
// node comes back with small bodies off (here, by a store that fsyncs each
// body), and from then on no copy is kept.
func TestSmallBodiesRestoredWhenTurnedOff(t *testing.T) {
	dir, remote := t.TempDir(), newMemRemote()
	tn := openNode(t, dir, remote, nodeSetup{blobs: func(b Blobs) Blobs { return failingSync{b} }})
	key, body := newKey(), randomBody(3000)
	rec := put(t, tn, key, body, objstore.LevelLocal)
	tn.close()
	if err := os.Remove(bodyPath(tn, key, rec.BodyVersion)); err != nil {
		t.Fatal(err)
	}

	tn = openNode(t, dir, remote, nodeSetup{disk: disk.Config{FsyncEach: true}})
	mustRead(t, tn, key, body)
	put(t, tn, newKey(), randomBody(3000), objstore.LevelLocal)
	if kept := journalBodies(t, tn); len(kept) != 0 {
		t.Fatalf("journal keeps %d bodies with small bodies off", len(kept))
	}
}

// A copy in the journal that does not match its record (a damaged journal)
// is never written over the body's file: the node starts, and serves the
// file it has.
func TestSmallBodyCopyNotMatchingItsRecordIsNotWritten(t *testing.T) {
	dir, remote := t.TempDir(), newMemRemote()
	tn := openNode(t, dir, remote, nodeSetup{blobs: func(b Blobs) Blobs { return failingSync{b} }})
	key, body := newKey(), randomBody(3000)
	rec := put(t, tn, key, body, objstore.LevelLocal)
	if _, _, err := tn.j.MergeBody(context.Background(), rec, randomBody(3000)); err != nil {
		t.Fatal(err)
	}
	tn.close()

	tn = openNode(t, dir, remote, nodeSetup{})
	mustRead(t, tn, key, body)
	if kept := journalBodies(t, tn); len(kept) != 0 {
		t.Fatalf("journal keeps %d bodies after the restart", len(kept))
	}
}

// Close syncs the files of the small bodies of its last moments and drops
// their copies, so a clean restart has nothing to write again.
func TestCloseDropsSmallBodyCopies(t *testing.T) {
	every := smallBodySyncEvery
	smallBodySyncEvery = time.Hour // only Close syncs
	t.Cleanup(func() { smallBodySyncEvery = every })
	dir, remote := t.TempDir(), newMemRemote()
	tn := openNode(t, dir, remote, nodeSetup{})
	for range 5 {
		put(t, tn, newKey(), randomBody(4096), objstore.LevelLocal)
	}
	if kept := journalBodies(t, tn); len(kept) != 5 {
		t.Fatalf("journal keeps %d bodies before Close, want 5", len(kept))
	}
	if err := tn.Node.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if kept := journalBodies(t, tn); len(kept) != 0 {
		t.Fatalf("journal keeps %d bodies after Close", len(kept))
	}
}
