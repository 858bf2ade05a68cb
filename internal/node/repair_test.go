package node

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"sphere.software/objstore"
)

func TestRepairQueueOneJobPerBody(t *testing.T) {
	q := newRepairQueue()
	a := bodyRef{key: objstore.Key{Bucket: "b", ID: "a"}, v: objstore.Version{HLC: 1, Node: "n"}}
	b := bodyRef{key: a.key, v: objstore.Version{HLC: 2, Node: "n"}}
	ja, fresh := q.add(a, errors.New("first"), nil)
	if !fresh {
		t.Fatal("first report of a body is not new")
	}
	if again, fresh := q.add(a, errors.New("second"), nil); fresh || again != ja {
		t.Fatal("a queued body got a second job")
	}
	if _, fresh := q.add(b, nil, nil); !fresh {
		t.Fatal("another version of the key shares the job")
	}
	got, ok := q.next(context.Background())
	if !ok || got != ja {
		t.Fatalf("next = %v, %v; want the first job", got, ok)
	}
	if again, fresh := q.add(a, nil, nil); fresh || again != ja {
		t.Fatal("a running body got a second job")
	}
	now := time.Unix(1_000_000, 0)
	q.now = func() time.Time { return now }
	q.finish(ja)
	select {
	case <-ja.done:
	default:
		t.Fatal("finish did not close done")
	}
	back := func() bool { return true }
	if again, fresh := q.add(a, nil, back); fresh || again != ja {
		t.Fatal("an echo of the rot just repaired started a second repair")
	}
	if again, fresh := q.add(a, nil, func() bool { return false }); !fresh || again == ja {
		t.Fatal("rot of a body gone again right after its repair is not repaired")
	}
	q = newRepairQueue()
	q.now = func() time.Time { return now }
	ja, _ = q.add(a, nil, nil)
	if j, _ := q.next(context.Background()); j != ja {
		t.Fatal("next is not the queued job")
	}
	q.finish(ja)
	now = now.Add(repairEcho + time.Second)
	if _, fresh := q.add(a, nil, back); !fresh {
		t.Fatal("a body reported well after its repair ended is not repaired again")
	}
}

// bodyPath is where tn's disk keeps the body of key at v.
func bodyPath(tn *testNode, key objstore.Key, v objstore.Version) string {
	name := tn.blobs.Name(key, v)
	return filepath.Join(tn.dir, "files", name[:2], name)
}

// TestReportCorruptRepairsOncePerBody reports one rotted level-1 body many
// times, concurrently, while its repair is held mid-copy: one finding, one
// origin GET, and the body is back with its bytes.
func TestReportCorruptRepairsOncePerBody(t *testing.T) {
	tn := newTestNode(t, 0)
	key, body := newKey(), randomBody(64<<10)
	rec := put(t, tn, key, body, objstore.LevelS3)
	if err := tn.blobs.Remove(key, rec.BodyVersion); err != nil { // the reporter drops the copy
		t.Fatal(err)
	}
	tn.remote.gate = make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tn.ReportCorrupt(key, rec.BodyVersion, objstore.ErrChecksum)
		}()
	}
	wg.Wait()
	j, fresh := tn.repairs.add(bodyRef{key: key, v: rec.BodyVersion}, nil, nil)
	if fresh {
		t.Fatal("the repair ended before the origin was let through")
	}
	close(tn.remote.gate)
	<-j.done
	if got := tn.stats.corruptFound.Load(); got != 1 {
		t.Errorf("corrupt found = %d, want 1", got)
	}
	if got := tn.remote.gets.Load(); got != 1 {
		t.Errorf("origin GETs = %d, want 1", got)
	}
	if got := tn.stats.repaired.Load(); got != 1 {
		t.Errorf("repaired = %d, want 1", got)
	}
	if err := tn.blobs.Scrub(key, rec.BodyVersion, rec.Sum); err != nil {
		t.Fatalf("restored body: %v", err)
	}
}

// TestRottedSoleCopyIsLost: a level-0 body that rots on the only node that
// has it is reported lost by GET, HEAD and the record, counted, and a new
// PUT of the key clears the mark.
func TestRottedSoleCopyIsLost(t *testing.T) {
	dir, remote := t.TempDir(), newMemRemote()
	tn := openTestNode(t, dir, remote, 0)
	key, body := newKey(), randomBody(10_000)
	rec := put(t, tn, key, body, objstore.LevelLocal)
	tn.close()
	corruptFile(t, bodyPath(tn, key, rec.BodyVersion))
	tn = openTestNode(t, dir, remote, 0) // a restarted node verifies on first read

	for i := range 2 { // the finder's answer and the next reader's are the same
		if _, _, err := read(t, tn, key, false); !errors.Is(err, objstore.ErrLost) {
			t.Fatalf("GET %d: err = %v, want ErrLost", i, err)
		}
	}
	if _, err := tn.Stat(context.Background(), key); !errors.Is(err, objstore.ErrLost) {
		t.Fatalf("Stat: err = %v, want ErrLost", err)
	}
	head, err := tn.Head(context.Background(), key)
	if err != nil || !head.Lost || head.BodyVersion != rec.BodyVersion || head.Version.Compare(rec.Version) <= 0 {
		t.Fatalf("Head = %+v, %v; want a newer version marked lost", head, err)
	}
	st, err := tn.Stats(context.Background())
	if err != nil || st.Integrity.CorruptFound != 1 || st.Integrity.Lost != 1 || st.Integrity.Repaired != 0 {
		t.Fatalf("integrity stats = %+v, %v", st.Integrity, err)
	}
	if _, err := tn.SetLevel(context.Background(), key, objstore.LevelS3); !errors.Is(err, objstore.ErrLost) {
		t.Fatalf("SetLevel of a lost body: err = %v, want ErrLost", err)
	}

	fresh := randomBody(3000)
	put(t, tn, key, fresh, objstore.LevelLocal)
	got, _, err := read(t, tn, key, false)
	if err != nil || !bytes.Equal(got, fresh) {
		t.Fatalf("GET after a new PUT: equal=%v err=%v", bytes.Equal(got, fresh), err)
	}
}

// TestRottedLevel1BodyIsRestoredFromOrigin: a read finds the rot and is
// served from the origin; the repair leaves the body on disk again.
func TestRottedLevel1BodyIsRestoredFromOrigin(t *testing.T) {
	dir, remote := t.TempDir(), newMemRemote()
	tn := openTestNode(t, dir, remote, 0)
	key, body := newKey(), randomBody(2<<20) // past the hot cache's object limit
	rec := put(t, tn, key, body, objstore.LevelS3)
	tn.close()
	corruptFile(t, bodyPath(tn, key, rec.BodyVersion))
	tn = openTestNode(t, dir, remote, 0)
	got, _, err := read(t, tn, key, false)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET: equal=%v err=%v", bytes.Equal(got, body), err)
	}
	j, _ := tn.repairs.add(bodyRef{key: key, v: rec.BodyVersion}, nil, nil)
	<-j.done // the report's job, or a new one that finds the body back
	if err := tn.blobs.Scrub(key, rec.BodyVersion, rec.Sum); err != nil {
		t.Fatalf("body after repair: %v", err)
	}
	if got := tn.stats.corruptFound.Load(); got != 1 {
		t.Errorf("corrupt found = %d, want 1", got)
	}
}

// TestPeerReadOfRotReportsIt: rot found while serving a peer is repaired
// as rot found by a client's read.
func TestPeerReadOfRotReportsIt(t *testing.T) {
	dir, remote := t.TempDir(), newMemRemote()
	tn := openTestNode(t, dir, remote, 0)
	key, body := newKey(), randomBody(40_000)
	rec := put(t, tn, key, body, objstore.LevelS3)
	tn.close()
	corruptFile(t, bodyPath(tn, key, rec.BodyVersion))
	tn = openTestNode(t, dir, remote, 0)
	if _, _, err := tn.OpenBody(context.Background(), key, rec.BodyVersion); !errors.Is(err, objstore.ErrChecksum) {
		t.Fatalf("OpenBody of a rotted body: err = %v", err)
	}
	j, _ := tn.repairs.add(bodyRef{key: key, v: rec.BodyVersion}, nil, nil)
	<-j.done
	if found := tn.stats.corruptFound.Load(); found != 1 {
		t.Fatalf("corrupt found = %d, want 1", found)
	}
	if err := tn.blobs.Scrub(key, rec.BodyVersion, rec.Sum); err != nil {
		t.Fatalf("body after repair: %v", err)
	}
}
