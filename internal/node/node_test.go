package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/journal"
)

type testNode struct {
	*Node
	remote *memRemote
	j      *journal.Store
	blobs  *disk.Store
	dir    string
}

// newTestNode builds a node on a real journal and disk store in a temp dir
// and an in-memory origin.
func newTestNode(t testing.TB, maxSize int64) *testNode {
	t.Helper()
	return openTestNode(t, t.TempDir(), newMemRemote(), maxSize)
}

func openTestNode(t testing.TB, dir string, remote *memRemote, maxSize int64) *testNode {
	t.Helper()
	return openNode(t, dir, remote, nodeSetup{cfg: Config{MaxObjectSize: maxSize, HotCacheBytes: 4 << 20}})
}

// nodeSetup is what the tests vary in the node openNode builds; the zero
// value is a node with the default Config over remote.
type nodeSetup struct {
	cfg     Config                // NodeID is the journal's
	disk    disk.Config           // the body store's
	origin  Remote                // the origin the node sees; nil: remote
	journal func(Journal) Journal // wraps the journal the node sees; nil: none
	blobs   func(Blobs) Blobs     // wraps the body store the node sees; nil: none
}

// openNode builds a node on a real journal and disk store in dir, closed
// when the test ends. remote is the in-memory origin behind s.origin (nil
// when s.origin is not one).
func openNode(t testing.TB, dir string, remote *memRemote, s nodeSetup) *testNode {
	t.Helper()
	j, err := journal.Open(filepath.Join(dir, "state", "journal.db"), journal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	store, err := disk.Open(filepath.Join(dir, "files"), s.disk)
	if err != nil {
		_ = j.Close()
		t.Fatal(err)
	}
	var (
		jj     Journal = j
		blobs  Blobs   = AdaptBlobs(store)
		origin Remote  = remote
	)
	if s.journal != nil {
		jj = s.journal(jj)
	}
	if s.blobs != nil {
		blobs = s.blobs(blobs)
	}
	if s.origin != nil {
		origin = s.origin
	}
	cfg := s.cfg
	cfg.NodeID = j.NodeID()
	n, err := New(context.Background(), cfg, jj, blobs, origin)
	if err != nil {
		_ = store.Close()
		_ = j.Close()
		t.Fatal(err)
	}
	tn := &testNode{Node: n, remote: remote, j: j, blobs: store, dir: dir}
	t.Cleanup(tn.close)
	return tn
}

func (tn *testNode) close() {
	_ = tn.Node.Close(context.Background())
	_ = tn.blobs.Close()
	_ = tn.j.Close()
}

func newKey() objstore.Key { return objstore.Key{Bucket: "bucket", ID: ulid.Make().String()} }

func put(t testing.TB, n *testNode, key objstore.Key, body []byte, level objstore.Level) objstore.Record {
	t.Helper()
	rec, err := n.Put(context.Background(), PutRequest{Key: key, Name: "f.txt", Level: level, Size: int64(len(body)), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return rec
}

func read(t testing.TB, n *testNode, key objstore.Key, fetch bool) ([]byte, *Object, error) {
	t.Helper()
	obj, err := n.Get(context.Background(), key, fetch)
	if err != nil {
		return nil, nil, err
	}
	defer obj.Close()
	b, err := io.ReadAll(obj.Body)
	return b, obj, err
}

func randomBody(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return b
}

func TestPutGetByLevel(t *testing.T) {
	for _, level := range []objstore.Level{objstore.LevelLocal, objstore.LevelS3, objstore.LevelFull} {
		t.Run(string(rune('0'+level)), func(t *testing.T) {
			n := newTestNode(t, 0)
			key, body := newKey(), randomBody(100_000)
			rec := put(t, n, key, body, level)
			if rec.InRemote != level.Remote() || n.remote.has(key) != level.Remote() {
				t.Fatalf("level %d: InRemote=%v, origin has it=%v", level, rec.InRemote, n.remote.has(key))
			}
			got, obj, err := read(t, n, key, false)
			if err != nil || !bytes.Equal(got, body) || obj.Source != SourceLocal {
				t.Fatalf("read back: err=%v equal=%v source=%v", err, bytes.Equal(got, body), obj.Source)
			}
			if obj.ContentType != "text/plain; charset=utf-8" {
				t.Fatalf("content type %q", obj.ContentType)
			}
		})
	}
}

func TestPutRejectsLowerLevelAndKeepsObject(t *testing.T) {
	n := newTestNode(t, 0)
	key := newKey()
	put(t, n, key, []byte("v1"), objstore.LevelFull)
	_, err := n.Put(context.Background(), PutRequest{Key: key, Level: objstore.LevelLocal, Size: 2, Body: strings.NewReader("v2")})
	if !errors.Is(err, objstore.ErrLevelLowered) {
		t.Fatalf("lowering: err=%v", err)
	}
	got, _, err := read(t, n, key, false)
	if err != nil || string(got) != "v1" {
		t.Fatalf("object changed after refused write: %q %v", got, err)
	}
}

// A level that is only a floor (an S3 write that names none) keeps the
// object's higher level instead of failing, and raises a lower one.
func TestPutLevelFloorKeepsHigherLevel(t *testing.T) {
	n := newTestNode(t, 0)
	key := newKey()
	put(t, n, key, []byte("v1"), objstore.LevelS3)
	rec, err := n.Put(context.Background(), PutRequest{Key: key, Level: objstore.LevelLocal, LevelIsFloor: true, Size: 2, Body: strings.NewReader("v2")})
	if err != nil || rec.Level != objstore.LevelS3 || !rec.InRemote {
		t.Fatalf("floor below the current level: rec=%+v err=%v, want level %d in the origin", rec, err, objstore.LevelS3)
	}
	rec, err = n.Put(context.Background(), PutRequest{Key: key, Level: objstore.LevelFull, LevelIsFloor: true, Size: 2, Body: strings.NewReader("v3")})
	if err != nil || rec.Level != objstore.LevelFull {
		t.Fatalf("floor above the current level: rec=%+v err=%v, want level %d", rec, err, objstore.LevelFull)
	}
	got, _, err := read(t, n, key, false)
	if err != nil || string(got) != "v3" {
		t.Fatalf("read after floor writes: %q %v", got, err)
	}
}

func TestOverwriteRemovesOldBody(t *testing.T) {
	n := newTestNode(t, 0)
	key := newKey()
	old := put(t, n, key, []byte("first"), objstore.LevelLocal)
	put(t, n, key, []byte("second"), objstore.LevelLocal)
	if _, err := n.blobs.Open(key, old.BodyVersion, old.Sum); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("old body still there: %v", err)
	}
	got, _, err := read(t, n, key, false)
	if err != nil || string(got) != "second" {
		t.Fatalf("got %q %v", got, err)
	}
}

func TestPutSizeChecksWriteNothing(t *testing.T) {
	n := newTestNode(t, 10)
	for name, req := range map[string]PutRequest{
		"over limit, length known":   {Size: 11, Body: strings.NewReader("01234567890")},
		"over limit, length unknown": {Size: -1, Body: strings.NewReader("01234567890")},
		"short body":                 {Size: 5, Body: strings.NewReader("0123")},
		"bad user meta":              {Size: 1, Body: strings.NewReader("0"), UserMeta: []byte(`[1]`)},
		"bad level":                  {Size: 1, Body: strings.NewReader("0"), Level: 3},
	} {
		t.Run(name, func(t *testing.T) {
			req.Key = newKey()
			if _, err := n.Put(context.Background(), req); err == nil {
				t.Fatal("accepted")
			}
			if _, err := n.Head(context.Background(), req.Key); !errors.Is(err, objstore.ErrNotFound) {
				t.Fatalf("record written: %v", err)
			}
		})
	}
	if u, _ := n.blobs.Usage(); u.Bodies != 0 {
		t.Fatalf("bodies left on disk: %d bytes", u.Bodies)
	}
}

func TestOriginDownFailsLevel1PutAndWritesNothing(t *testing.T) {
	n := newTestNode(t, 0)
	n.remote.fail.Store(true)
	key := newKey()
	_, err := n.Put(context.Background(), PutRequest{Key: key, Level: objstore.LevelS3, Size: 3, Body: strings.NewReader("abc")})
	if !errors.Is(err, objstore.ErrNoRemote) {
		t.Fatalf("err=%v", err)
	}
	if _, err := n.Head(context.Background(), key); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("record written: %v", err)
	}
	if u, _ := n.blobs.Usage(); u.Bodies != 0 {
		t.Fatalf("body left behind: %d", u.Bodies)
	}
}

func TestDeleteIsFinal(t *testing.T) {
	n := newTestNode(t, 0)
	key := newKey()
	put(t, n, key, []byte("x"), objstore.LevelS3)
	if _, err := n.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if n.remote.has(key) {
		t.Fatal("origin still has the object")
	}
	if _, _, err := read(t, n, key, true); !errors.Is(err, objstore.ErrDeleted) {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := n.Delete(context.Background(), key); !errors.Is(err, objstore.ErrDeleted) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := n.Delete(context.Background(), newKey()); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("delete unknown: %v", err)
	}
}

// TestDeleteShadowedOriginCopy: an object of the origin bucket overwritten
// at level 0 and then deleted must not come back from the origin once the
// tombstone expires, so the delete removes the older origin copy too; a
// newer origin copy stays, and an unreachable origin does not fail the
// delete.
func TestDeleteShadowedOriginCopy(t *testing.T) {
	seed := func(n *testNode, key objstore.Key, v objstore.Version) {
		t.Helper()
		body := []byte("from the origin")
		rec := objstore.Record{Key: key, Version: v, BodyVersion: v, Sum: objstore.Checksum{Size: int64(len(body))}}
		if err := n.remote.Put(context.Background(), rec, bytes.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("older copy deleted", func(t *testing.T) {
		n := newTestNode(t, 0)
		key := newKey()
		seed(n, key, objstore.ForeignVersion(time.Now().Add(-time.Hour)))
		put(t, n, key, []byte("local"), objstore.LevelLocal)
		if _, err := n.Delete(context.Background(), key); err != nil {
			t.Fatal(err)
		}
		if n.remote.has(key) {
			t.Error("the origin still has the older copy")
		}
	})
	t.Run("newer copy kept", func(t *testing.T) {
		n := newTestNode(t, 0)
		key := newKey()
		put(t, n, key, []byte("local"), objstore.LevelLocal)
		seed(n, key, objstore.Version{HLC: ^uint64(0) >> 1, Node: "other"})
		if _, err := n.Delete(context.Background(), key); err != nil {
			t.Fatal(err)
		}
		if !n.remote.has(key) {
			t.Error("the newer origin copy was deleted")
		}
	})
	t.Run("origin down", func(t *testing.T) {
		n := newTestNode(t, 0)
		key := newKey()
		put(t, n, key, []byte("local"), objstore.LevelLocal)
		n.remote.fail.Store(true)
		if _, err := n.Delete(context.Background(), key); err != nil {
			t.Fatalf("level-0 delete with the origin down: %v", err)
		}
		if _, _, err := read(t, n, key, false); !errors.Is(err, objstore.ErrDeleted) {
			t.Fatalf("get after delete: %v", err)
		}
	})
}

func TestFetchRestoresRecordAndCaches(t *testing.T) {
	remote := newMemRemote()
	a := openTestNode(t, t.TempDir(), remote, 0)
	key, body := newKey(), randomBody(300_000)
	meta := []byte(`{"owner":"ann"}`)
	want, err := a.Put(context.Background(), PutRequest{Key: key, Name: "pic.png", UserMeta: meta, Level: objstore.LevelS3, Size: int64(len(body)), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	b := openTestNode(t, t.TempDir(), remote, 0) // a node with empty state
	if _, _, err := read(t, b, key, false); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("miss without fetch: %v", err)
	}
	got, obj, err := read(t, b, key, true)
	if err != nil || !bytes.Equal(got, body) || obj.Source != SourceRemote {
		t.Fatalf("fetch: err=%v equal=%v source=%v", err, bytes.Equal(got, body), obj.Source)
	}
	if obj.Name != "pic.png" || obj.Level != objstore.LevelS3 || string(obj.UserMeta) != string(meta) || obj.ContentType != "image/png" {
		t.Fatalf("record not restored: %+v", obj.Record)
	}
	if obj.Version != want.Version {
		t.Fatalf("version %v, want %v", obj.Version, want.Version)
	}
	gets := remote.gets.Load()
	got, obj, err = read(t, b, key, false)
	if err != nil || !bytes.Equal(got, body) || obj.Source != SourceLocal || remote.gets.Load() != gets {
		t.Fatalf("second read not local: err=%v source=%v gets=%d→%d", err, obj.Source, gets, remote.gets.Load())
	}
}

func TestConcurrentMissesCostOneOriginGet(t *testing.T) {
	remote := newMemRemote()
	a := openTestNode(t, t.TempDir(), remote, 0)
	key, body := newKey(), randomBody(1<<20)
	put(t, a, key, body, objstore.LevelS3)
	remote.gate = make(chan struct{})
	b := openTestNode(t, t.TempDir(), remote, 0)
	want := sha256.Sum256(body)

	const readers = 50
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	started := make(chan struct{}, readers)
	for range readers {
		wg.Go(func() {
			obj, err := b.Get(context.Background(), key, true)
			if err != nil {
				errs <- err
				return
			}
			defer obj.Close()
			started <- struct{}{}
			got, err := io.ReadAll(obj.Body)
			if err != nil {
				errs <- err
			} else if sha256.Sum256(got) != want {
				errs <- errors.New("body differs")
			}
		})
	}
	for range readers { // every reader has its object before the body completes
		<-started
	}
	close(remote.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if g := remote.gets.Load(); g != 1 {
		t.Fatalf("origin GETs = %d, want 1", g)
	}
}

func TestCorruptOriginBodyIsNeverServedWhole(t *testing.T) {
	remote := newMemRemote()
	a := openTestNode(t, t.TempDir(), remote, 0)
	key, body := newKey(), randomBody(200_000)
	put(t, a, key, body, objstore.LevelS3)
	remote.corrupt.Store(true)
	b := openTestNode(t, t.TempDir(), remote, 0)
	got, obj, err := read(t, b, key, true)
	if !errors.Is(err, objstore.ErrChecksum) {
		t.Fatalf("err=%v", err)
	}
	if len(got) >= len(body) {
		t.Fatalf("served %d bytes of a corrupt %d-byte body", len(got), len(body))
	}
	_ = obj
	if _, err := b.Head(context.Background(), key); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("corrupt fetch left a record: %v", err)
	}
}

func TestCorruptLocalBodyIsReplacedFromOrigin(t *testing.T) {
	dir, remote := t.TempDir(), newMemRemote()
	n := openTestNode(t, dir, remote, 0)
	key, body := newKey(), randomBody(50_000)
	rec := put(t, n, key, body, objstore.LevelS3)
	n.close()
	path := filepath.Join(dir, "files", n.blobs.Name(key, rec.BodyVersion)[:2], n.blobs.Name(key, rec.BodyVersion))
	corruptFile(t, path)
	n = openTestNode(t, dir, remote, 0) // a restarted node verifies on first read
	got, obj, err := read(t, n, key, false)
	if err != nil || !bytes.Equal(got, body) || obj.Source != SourceRemote {
		t.Fatalf("err=%v equal=%v source=%v", err, bytes.Equal(got, body), obj.Source)
	}
}

func corruptFile(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	flipAt(t, path, fi.Size()/3)
}

// flipAt flips a bit of the byte at off in the file at path, in place, as
// rot would.
func flipAt(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x10
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestSetLevelUploadsAndNeverLowers(t *testing.T) {
	n := newTestNode(t, 0)
	key, body := newKey(), []byte("raise me")
	put(t, n, key, body, objstore.LevelLocal)
	rec, err := n.SetLevel(context.Background(), key, objstore.LevelS3)
	if err != nil || !rec.InRemote || !n.remote.has(key) {
		t.Fatalf("raise: %v InRemote=%v", err, rec.InRemote)
	}
	if _, err := n.SetLevel(context.Background(), key, objstore.LevelLocal); !errors.Is(err, objstore.ErrLevelLowered) {
		t.Fatalf("lower: %v", err)
	}
	got, _, err := read(t, n, key, false)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("body after raise: %q %v", got, err)
	}
	if _, err := n.SetLevel(context.Background(), newKey(), objstore.LevelS3); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestRestartSweepsOrphanBodies(t *testing.T) {
	dir, remote := t.TempDir(), newMemRemote()
	n := openTestNode(t, dir, remote, 0)
	key := newKey()
	rec := put(t, n, key, []byte("kept"), objstore.LevelLocal)
	orphan := objstore.Version{HLC: 42, Node: "X"}
	w, err := n.blobs.Create(newKey(), orphan)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("orphan"))
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	n.close()
	n = openTestNode(t, dir, remote, 0)
	<-n.swept
	if u, _ := n.blobs.Usage(); u.Bodies != rec.Size() {
		t.Fatalf("bodies after sweep: %d bytes, want %d", u.Bodies, rec.Size())
	}
	if got, _, err := read(t, n, key, false); err != nil || string(got) != "kept" {
		t.Fatalf("live body lost by sweep: %q %v", got, err)
	}
}

// The start-up sweep runs while the node serves: bodies PUT meanwhile,
// whose records may be merged after the sweep's journal scan, all stay;
// the crash's orphan goes; the held bytes end equal to the bodies kept.
func TestSweepRacingPuts(t *testing.T) {
	dir, remote := t.TempDir(), newMemRemote()
	n := openTestNode(t, dir, remote, 0)
	var want int64
	for range 50 {
		want += put(t, n, newKey(), randomBody(100), objstore.LevelLocal).Size()
	}
	orphanKey, orphan := newKey(), objstore.Version{HLC: 42, Node: "X"}
	w, err := n.blobs.Create(orphanKey, orphan)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("orphan"))
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	n.close()

	n = openTestNode(t, dir, remote, 0)
	type written struct {
		key  objstore.Key
		body []byte
	}
	done := make(chan []written)
	go func() {
		var ws []written
		for range 100 {
			wr := written{newKey(), randomBody(50)}
			if _, err := n.Put(context.Background(), PutRequest{Key: wr.key, Name: "f", Level: objstore.LevelLocal,
				Size: int64(len(wr.body)), Body: bytes.NewReader(wr.body)}); err != nil {
				t.Errorf("put during the sweep: %v", err)
				break
			}
			ws = append(ws, wr)
		}
		done <- ws
	}()
	ws := <-done
	<-n.swept
	for _, wr := range ws {
		want += int64(len(wr.body))
		if got, obj, err := read(t, n, wr.key, false); err != nil || !bytes.Equal(got, wr.body) || obj.Source != SourceLocal {
			t.Fatalf("body put during the sweep: %v (source %v)", err, obj)
		}
	}
	if n.blobs.Has(orphanKey, orphan) {
		t.Fatal("the orphan survived the sweep")
	}
	if u, _ := n.blobs.Usage(); u.Bodies != want {
		t.Fatalf("bodies after the sweep: %d bytes, want %d", u.Bodies, want)
	}
}

func TestStatsCountHitsAndMisses(t *testing.T) {
	n := newTestNode(t, 0)
	key := newKey()
	put(t, n, key, []byte("abc"), objstore.LevelLocal)
	_, _, _ = read(t, n, key, false)
	_, _, _ = read(t, n, newKey(), false)
	s, err := n.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Hits.Local != 1 || s.Misses != 1 || s.Objects.Objects != 1 || s.Objects.Bytes != 3 {
		t.Fatalf("stats %+v", s)
	}
}

func TestOriginFailingMidBodyAbortsEveryReaderAndRecordsNothing(t *testing.T) {
	remote := newMemRemote()
	a := openTestNode(t, t.TempDir(), remote, 0)
	key, body := newKey(), randomBody(500_000)
	put(t, a, key, body, objstore.LevelS3)
	remote.cut.Store(true)
	b := openTestNode(t, t.TempDir(), remote, 0)
	got, _, err := read(t, b, key, true)
	if !errors.Is(err, objstore.ErrNoRemote) || len(got) >= len(body) {
		t.Fatalf("err=%v, got %d of %d bytes", err, len(got), len(body))
	}
	if _, err := b.Head(context.Background(), key); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("a failed fill left a record: %v", err)
	}
	if u, _ := b.blobs.Usage(); u.Bodies != 0 {
		t.Fatalf("a failed fill left %d bytes of body", u.Bodies)
	}
	remote.cut.Store(false) // the next miss starts a new fill and succeeds
	if got, _, err := read(t, b, key, true); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("retry after the origin recovered: %v", err)
	}
}
