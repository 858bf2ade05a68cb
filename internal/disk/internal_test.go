package disk

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

const testNode = "01HZX3K9V7Q2M8N4P6R1S5T0WY"

func TestBodyPath(t *testing.T) {
	root := filepath.FromSlash("/srv/objstore")
	tests := []struct {
		name string
		key  objstore.Key
		v    objstore.Version
		// hashedVersion is set when the version cannot be used as it is.
		hashedVersion bool
	}{
		{"plain", objstore.Key{Bucket: "b", ID: "k"}, objstore.Version{HLC: 1, Node: testNode}, false},
		{"traversal key", objstore.Key{Bucket: "b", ID: "../../etc/passwd"}, objstore.Version{HLC: 1, Node: testNode}, false},
		{"traversal node", objstore.Key{Bucket: "b", ID: "k"}, objstore.Version{HLC: 1, Node: "../.."}, true},
		{"separator in node", objstore.Key{Bucket: "b", ID: "k"}, objstore.Version{HLC: 1, Node: `a\b`}, true},
		{"long node", objstore.Key{Bucket: "b", ID: "k"}, objstore.Version{HLC: 1, Node: strings.Repeat("n", 200)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fileName(tt.key, tt.v)
			checkName(t, root, name)
			if got := strings.HasSuffix(name, "."+tt.v.String()); got == tt.hashedVersion {
				t.Fatalf("name %q: version kept = %v, want %v", name, got, !tt.hashedVersion)
			}
			if want := filepath.Join(root, name[:2], name); bodyPath(root, name) != want {
				t.Fatalf("bodyPath = %q, want %q", bodyPath(root, name), want)
			}
		})
	}
	a := fileName(objstore.Key{Bucket: "a", ID: "b/c"}, objstore.Version{HLC: 1})
	b := fileName(objstore.Key{Bucket: "a/b", ID: "c"}, objstore.Version{HLC: 1})
	if a == b {
		t.Fatal("bucket and id boundary not part of the hash")
	}
}

// checkName fails unless name is a single safe path element whose body
// path lies in a shard directly under root.
func checkName(tb testing.TB, root, name string) {
	tb.Helper()
	if strings.ContainsAny(name, `/\`+"\x00") || name == "." || name == ".." || strings.Contains(name, "..") {
		tb.Fatalf("unsafe name %q", name)
	}
	if len(name) > 255 || len(name) < keyHexLen+2 {
		tb.Fatalf("name %q: length %d", name, len(name))
	}
	for _, seg := range strings.Split(filepath.ToSlash(name), "/") {
		if seg == ".." {
			tb.Fatalf("name %q has a .. segment", name)
		}
	}
	path := bodyPath(root, name)
	rel, err := filepath.Rel(root, path)
	if err != nil || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
		tb.Fatalf("path %q escapes %q", path, root)
	}
	if filepath.Dir(filepath.Dir(path)) != root || !isShard(filepath.Base(filepath.Dir(path))) {
		tb.Fatalf("path %q is not <root>/<shard>/<name>", path)
	}
}

func FuzzName(f *testing.F) {
	f.Add("bucket", "key", uint64(1), testNode)
	f.Add("..", "../../etc/passwd", uint64(0), "..")
	f.Add("/", "/abs", uint64(1<<63), "a/b")
	f.Add("b", "a\x00b", uint64(42), "\x00")
	f.Add("b", strings.Repeat("k", 1024), uint64(7), strings.Repeat(".", 300))
	f.Add("日本", "🙂", uint64(9), "ノード")
	root := filepath.FromSlash("/srv/objstore")
	f.Fuzz(func(t *testing.T, bucket, id string, hlc uint64, node string) {
		k, v := objstore.Key{Bucket: bucket, ID: id}, objstore.Version{HLC: hlc, Node: node}
		name := fileName(k, v)
		checkName(t, root, name)
		if fileName(k, v) != name {
			t.Fatal("fileName is not deterministic")
		}
	})
}

func TestConcurrentFirstOpenVerifiesOnce(t *testing.T) {
	dir := t.TempDir()
	k, v := objstore.Key{Bucket: "b", ID: "k"}, objstore.Version{HLC: 1, Node: testNode}
	sum := writeBody(t, dir, k, v, make([]byte, 4<<20))

	s, err := Open(dir, Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			f, err := s.Open(k, v, sum)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			if n, err := io.Copy(io.Discard, f); err != nil || n != sum.Size {
				t.Errorf("read %d, %v", n, err)
			}
		})
	}
	wg.Wait()
	if n := s.verifications.Load(); n != 1 {
		t.Fatalf("%d verifications, want 1", n)
	}
	if _, err := s.Open(k, v, sum); err != nil {
		t.Fatal(err)
	}
	if n := s.verifications.Load(); n != 1 {
		t.Fatalf("%d verifications after a later Open, want 1", n)
	}
}

func TestCountersBackToZero(t *testing.T) {
	s, err := Open(t.TempDir(), Config{Quota: 100})
	if err != nil {
		t.Fatal(err)
	}
	k, v := objstore.Key{Bucket: "b", ID: "k"}, objstore.Version{HLC: 1, Node: testNode}
	tests := []struct {
		name   string
		sizes  []int
		commit bool
	}{
		{"over quota", []int{60, 60}, false},
		{"closed without commit", []int{60}, false},
		{"committed then removed", []int{100}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := s.Create(k, v)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.sizes {
				_, _ = w.Write(make([]byte, n)) // the quota error is expected; counters are checked below
			}
			if tt.commit {
				if _, err := w.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Remove(k, v); err != nil {
				t.Fatal(err)
			}
			if r, h := s.reserved.Load(), s.held.Load(); r != 0 || h != 0 {
				t.Fatalf("reserved %d, held %d; want 0, 0", r, h)
			}
		})
	}
}

// writeBody writes a body with a store of its own, so that a later store
// has not seen it.
func writeBody(tb testing.TB, dir string, k objstore.Key, v objstore.Version, data []byte) objstore.Checksum {
	tb.Helper()
	s, err := Open(dir, Config{})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	w, err := s.Create(k, v)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	sum, err := w.Commit()
	if err != nil {
		tb.Fatal(err)
	}
	return sum
}

// A new body is made durable by the store's group sync; a body that
// replaces a file of its name is fsynced on its own, so that a crash during
// the commit never tears the copy that was there, and so is a large one;
// FsyncEach turns the group sync off.
func TestCommitGroupsNewBodiesOnly(t *testing.T) {
	for _, fsyncEach := range []bool{false, true} {
		s, err := Open(t.TempDir(), Config{NodeID: testNode, FsyncEach: fsyncEach})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if !fsyncEach && s.barrier == nil {
			t.Skip("no group sync on this system")
		}
		if fsyncEach && s.barrier != nil {
			t.Fatal("FsyncEach: the store has a barrier")
		}
		var syncs int
		if !fsyncEach {
			s.barrier = durable.NewBarrierFunc(func() error { syncs++; return nil })
		}
		commitBody := func(id string, body []byte) {
			w, err := s.Create(objstore.Key{Bucket: "b", ID: id}, objstore.Version{HLC: 1, Node: testNode})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if _, err := w.Write(body); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		commit := func() { commitBody("k", []byte("body")) }
		commit()
		want := map[bool]int{false: 1, true: 0}[fsyncEach]
		if syncs != want {
			t.Fatalf("FsyncEach=%v: new body: %d group syncs, want %d", fsyncEach, syncs, want)
		}
		commit() // the same name again: replaces the file
		if syncs != want {
			t.Fatalf("FsyncEach=%v: replacing body: %d group syncs, want %d", fsyncEach, syncs, want)
		}
		commitBody("large", make([]byte, GroupCommitMax+1))
		if syncs != want {
			t.Fatalf("FsyncEach=%v: body over GroupCommitMax: %d group syncs, want %d", fsyncEach, syncs, want)
		}
	}
}
