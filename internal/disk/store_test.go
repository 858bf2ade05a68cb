package disk_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/durable"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		chunk int
		// around: the writer is told a commit follows (ExpectCommit)
		// and the body comes from an aligned buffer, so its whole
		// blocks are written around the page cache.
		around bool
	}{
		{"empty", 0, 1, false},
		{"one byte", 1, 1, false},
		{"small chunks", 10_000, 7, false},
		{"over the verify buffer", 3<<20 + 7, 64 << 10, false},
		{"around the page cache", 3<<20 + 7, 256 << 10, true},
		{"around the page cache, ragged writes", 3<<20 + 7, 100_000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, 0)
			k, v := key("obj"), ver(1)
			data := pattern(tt.size, 3)

			w, err := s.Create(k, v)
			if err != nil {
				t.Fatal(err)
			}
			if tt.around {
				data = append(durable.AlignedBytes(len(data))[:0], data...)
				w.ExpectCommit(int64(len(data)))
			}
			for off := 0; off < len(data); off += tt.chunk {
				if _, err := w.Write(data[off:min(off+tt.chunk, len(data))]); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := w.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			mustSum(t, sum, data)
			mustEqual(t, get(t, s, k, v, sum), data)
			if got, want := bodies(t, s), disk.FileSize(int64(len(data))); got != want {
				t.Fatalf("Bodies = %d, want %d", got, want)
			}
			// A fresh store verifies the body and counts it in Count.
			fresh := openStore(t, dir, 0)
			mustCount(t, fresh)
			mustEqual(t, get(t, fresh, k, v, sum), data)
			if got, want := bodies(t, fresh), disk.FileSize(int64(len(data))); got != want {
				t.Fatalf("fresh Bodies = %d, want %d", got, want)
			}
		})
	}
}

func TestCloseWithoutCommit(t *testing.T) {
	tests := []struct {
		name  string
		write bool
	}{
		{"nothing written", false},
		{"bytes written", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, 0)
			k, v := key("obj"), ver(1)
			w, err := s.Create(k, v)
			if err != nil {
				t.Fatal(err)
			}
			if tt.write {
				if _, err := w.Write(pattern(5000, 1)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			_, err = s.Open(k, v, objstore.Checksum{})
			wantErr(t, err, objstore.ErrNotFound)
			if got := files(t, dir); len(got) != 0 {
				t.Fatalf("files left: %v", got)
			}
			if got := bodies(t, s); got != 0 {
				t.Fatalf("Bodies = %d, want 0", got)
			}
			_, err = w.Commit()
			wantErr(t, err, os.ErrClosed)
		})
	}
}

func TestReadAtWhileWriting(t *testing.T) {
	s := openStore(t, t.TempDir(), 0)
	data := pattern(1<<20, 9)
	const chunk = 4096
	w, err := s.Create(key("follow"), ver(1))
	if err != nil {
		t.Fatal(err)
	}
	progress := make(chan int, len(data)/chunk+1)
	got := make([]byte, len(data))
	var wg sync.WaitGroup
	var readErr error
	wg.Go(func() {
		// Follow the body: read up to each reported length while the
		// writer goes on writing the next chunk.
		read := 0
		for end := range progress {
			n, err := w.ReadAt(got[read:end], int64(read))
			read += n
			if err != nil {
				readErr = fmt.Errorf("ReadAt(%d..%d): %w", read, end, err)
				return
			}
		}
	})
	for off := 0; off < len(data); off += chunk {
		if _, err := w.Write(data[off : off+chunk]); err != nil {
			t.Fatal(err)
		}
		progress <- off + chunk
	}
	close(progress)
	wg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	mustEqual(t, got, data)

	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	after := make([]byte, 10)
	if _, err := w.ReadAt(after, 100); err != nil {
		t.Fatalf("ReadAt after Commit: %v", err)
	}
	mustEqual(t, after, data[100:110])
	if n, err := w.ReadAt(after, int64(len(data))-5); n != 5 || err != io.EOF {
		t.Fatalf("ReadAt at end = %d, %v; want 5, io.EOF", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ReadAt(after, 0); err == nil {
		t.Fatal("ReadAt after Close succeeded")
	}
}

func TestCorruptBody(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(path string) error
	}{
		{"flipped byte", func(path string) error {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			b := make([]byte, 1)
			if _, err := f.ReadAt(b, 1234); err != nil {
				return err
			}
			b[0] ^= 0x40
			_, err = f.WriteAt(b, 1234)
			return err
		}},
		{"truncated", func(path string) error { return os.Truncate(path, 100) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			k, v := key("obj"), ver(1)
			sum := put(t, openStore(t, dir, 0), k, v, pattern(10_000, 5))
			path := bodyFile(t, dir, openStore(t, dir, 0), k, v)
			if err := tt.corrupt(path); err != nil {
				t.Fatal(err)
			}

			s := openStore(t, dir, 0)
			_, err := s.Open(k, v, sum)
			wantErr(t, err, objstore.ErrChecksum)
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("corrupt body still there: %v", err)
			}
			if got := bodies(t, s); got != 0 {
				t.Fatalf("Bodies = %d, want 0", got)
			}
			_, err = s.Open(k, v, sum)
			wantErr(t, err, objstore.ErrNotFound)
		})
	}
}

// TestGrownBody: bytes appended to a body of one block are not served and
// do not make it corrupt: the body's own bytes pass their check.
func TestGrownBody(t *testing.T) {
	dir := t.TempDir()
	k, v := key("obj"), ver(1)
	data := pattern(10_000, 5)
	sum := put(t, openStore(t, dir, 0), k, v, data)
	f, err := os.OpenFile(bodyFile(t, dir, openStore(t, dir, 0), k, v), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("junk")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, get(t, openStore(t, dir, 0), k, v, sum), data)
}

func TestVerifyPolicy(t *testing.T) {
	dir := t.TempDir()
	writer := openStore(t, dir, 0)
	k, v := key("obj"), ver(1)
	data := pattern(10_000, 2)
	sum := put(t, writer, k, v, data)

	// Same size, different bytes: only a full read can tell.
	path := bodyFile(t, dir, writer, k, v)
	bad := append([]byte(nil), data...)
	bad[0] ^= 1
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("size checked on every open", func(t *testing.T) {
		sum2 := put(t, writer, k, ver(2), data)
		if err := os.Truncate(bodyFile(t, dir, writer, k, ver(2)), 10); err != nil {
			t.Fatal(err)
		}
		_, err := writer.Open(k, ver(2), sum2)
		wantErr(t, err, objstore.ErrChecksum)
	})
	t.Run("fresh store (a restart): verified at open", func(t *testing.T) {
		_, err := openStore(t, dir, 0).Open(k, v, sum)
		wantErr(t, err, objstore.ErrChecksum)
	})
}

// TestTrustedBodyCheckedOnRead: a body this store wrote is not read whole
// at Open, but its reads still check every block, so rot after the write
// is never served.
func TestTrustedBodyCheckedOnRead(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, 0)
	k, v := key("obj"), ver(1)
	data := pattern(10_000, 2)
	sum := put(t, s, k, v, data)
	bad := append([]byte(nil), data...)
	bad[0] ^= 1
	if err := os.WriteFile(bodyFile(t, dir, s, k, v), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := s.Open(k, v, sum)
	if err != nil {
		t.Fatalf("Open of a trusted body: %v", err)
	}
	defer b.Close()
	_, err = io.ReadAll(b)
	wantErr(t, err, objstore.ErrChecksum)
	_, err = s.Open(k, v, sum)
	wantErr(t, err, objstore.ErrNotFound)
}

func TestQuota(t *testing.T) {
	const quota = 1000
	t.Run("one write over", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir, quota)
		w, err := s.Create(key("big"), ver(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(pattern(600, 1)); err != nil {
			t.Fatal(err)
		}
		_, err = w.Write(pattern(600, 1))
		wantErr(t, err, objstore.ErrInsufficientStorage)
		_, err = w.Commit()
		wantErr(t, err, objstore.ErrInsufficientStorage)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := files(t, dir); len(got) != 0 {
			t.Fatalf("files left: %v", got)
		}
		if got := bodies(t, s); got != 0 {
			t.Fatalf("Bodies = %d, want 0", got)
		}
		// The whole quota is free again.
		put(t, s, key("fits"), ver(1), pattern(quota, 1))
	})
	t.Run("in-flight bytes count", func(t *testing.T) {
		s := openStore(t, t.TempDir(), quota)
		w1, err := s.Create(key("a"), ver(1))
		if err != nil {
			t.Fatal(err)
		}
		defer w1.Close()
		if _, err := w1.Write(pattern(600, 1)); err != nil {
			t.Fatal(err)
		}
		w2, err := s.Create(key("b"), ver(1))
		if err != nil {
			t.Fatal(err)
		}
		defer w2.Close()
		_, err = w2.Write(pattern(600, 1))
		wantErr(t, err, objstore.ErrInsufficientStorage)
	})
	t.Run("committed bytes count until removed", func(t *testing.T) {
		dir := t.TempDir()
		put(t, openStore(t, dir, quota), key("a"), ver(1), pattern(600, 1))
		s := openStore(t, dir, quota)
		mustCount(t, s) // counts the body found on disk
		w, err := s.Create(key("b"), ver(1))
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.Write(pattern(600, 1))
		wantErr(t, err, objstore.ErrInsufficientStorage)
		_ = w.Close() // already failed; nothing to report
		if err := s.Remove(key("a"), ver(1)); err != nil {
			t.Fatal(err)
		}
		put(t, s, key("b"), ver(1), pattern(quota, 1))
	})
}

func TestOpenRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	k, v := key("kept"), ver(1)
	data := pattern(300, 1)
	sum := put(t, openStore(t, dir, 0), k, v, data)
	for _, name := range []string{"abc.123", "def.456"} {
		if err := os.WriteFile(filepath.Join(dir, "tmp", name), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp", "sub", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A write cut in one of the spread directories that Create uses.
	if err := os.WriteFile(filepath.Join(dir, "tmp", "3", "ghi.789"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}

	s := openStore(t, dir, 0)
	if got := tmpFiles(t, dir); len(got) != 0 {
		t.Fatalf("tmp not emptied: %v", got)
	}
	mustCount(t, s)
	if got := bodies(t, s); got != int64(len(data)) {
		t.Fatalf("Bodies = %d, want %d", got, len(data))
	}
	mustEqual(t, get(t, s, k, v, sum), data)
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	old := openStore(t, dir, 0)
	sums := map[string]objstore.Checksum{}
	for _, id := range []string{"a", "b", "c", "d"} {
		sums[id] = put(t, old, key(id), ver(1), pattern(100, 1))
	}
	s := openStore(t, dir, 0)
	keep := map[string]bool{s.Name(key("a"), ver(1)): true, s.Name(key("c"), ver(1)): true}

	// A write in flight has only a temp file, which Sweep leaves alone.
	w, err := s.Create(key("e"), ver(1))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write([]byte("in flight")); err != nil {
		t.Fatal(err)
	}

	n, err := s.Sweep(t.Context(), func(name string) bool { return keep[name] })
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2, nil", n, err)
	}
	for id, sum := range sums {
		_, err := s.Open(key(id), ver(1), sum)
		if want := keep[s.Name(key(id), ver(1))]; want != (err == nil) {
			t.Errorf("%s: kept=%v, Open err = %v", id, want, err)
		}
	}
	if got := bodies(t, s); got != 200 {
		t.Fatalf("Bodies = %d, want 200", got)
	}
	if got := tmpFiles(t, dir); len(got) != 1 {
		t.Fatalf("tmp = %v, want the in-flight write", got)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatalf("Commit after Sweep: %v", err)
	}
}

func TestSweepCancelled(t *testing.T) {
	s := openStore(t, t.TempDir(), 0)
	put(t, s, key("a"), ver(1), []byte("x"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	n, err := s.Sweep(ctx, func(string) bool { return false })
	if n != 0 {
		t.Fatalf("Sweep removed %d after cancel", n)
	}
	wantErr(t, err, context.Canceled)
}

func TestHostileKeys(t *testing.T) {
	keys := []objstore.Key{
		{Bucket: "b", ID: "../../x"},
		{Bucket: "..", ID: ".."},
		{Bucket: "b", ID: "/abs"},
		{Bucket: "/", ID: "/etc/passwd"},
		{Bucket: "b", ID: "a\x00b"},
		{Bucket: "b", ID: strings.Repeat("k", 1024)},
		{Bucket: "b", ID: "ключ/日本語/🙂"},
		{Bucket: "b", ID: `..\..\windows`},
		{Bucket: "", ID: ""},
	}
	versions := []objstore.Version{
		ver(1),
		{HLC: 2, Node: "../../node"},
		{HLC: 3, Node: "a/b"},
		{HLC: 4, Node: strings.Repeat("n", 300)},
		{HLC: 5, Node: ""},
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	s := openStore(t, dir, 0)
	for i, k := range keys {
		for j, v := range versions {
			t.Run(fmt.Sprintf("key%d/version%d", i, j), func(t *testing.T) {
				data := []byte(fmt.Sprintf("%q %v", k, v))
				sum := put(t, s, k, v, data)
				mustEqual(t, get(t, s, k, v, sum), data)
			})
		}
	}
	entries, err := os.ReadDir(parent)
	if err != nil || len(entries) != 1 {
		t.Fatalf("parent holds %v (%v), want only the store", entries, err)
	}
	got := files(t, dir)
	if want := len(keys) * len(versions); len(got) != want {
		t.Fatalf("%d files, want %d: %v", len(got), want, got)
	}
	for _, rel := range got {
		if parts := strings.Split(rel, string(filepath.Separator)); len(parts) != 2 || parts[0] == "tmp" {
			t.Errorf("body at %q, want <shard>/<name>", rel)
		}
	}
}

func TestConcurrentVersions(t *testing.T) {
	s := openStore(t, t.TempDir(), 0)
	k := key("hot")
	const writers = 16
	sums := make([]objstore.Checksum, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			w, err := s.Create(k, ver(uint64(i+1)))
			if err != nil {
				t.Error(err)
				return
			}
			defer w.Close()
			for range 10 {
				if _, err := w.Write(pattern(4096, byte(i))); err != nil {
					t.Error(err)
					return
				}
			}
			if sums[i], err = w.Commit(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, sum := range sums {
		got := get(t, s, k, ver(uint64(i+1)), sum)
		for c := range 10 {
			mustEqual(t, got[c*4096:(c+1)*4096], pattern(4096, byte(i)))
		}
	}
	if got := bodies(t, s); got != writers*10*4096 {
		t.Fatalf("Bodies = %d, want %d", got, writers*10*4096)
	}
}

func TestRewriteSameVersion(t *testing.T) {
	s := openStore(t, t.TempDir(), 0)
	data := pattern(500, 4)
	sum := put(t, s, key("x"), ver(1), data)
	if again := put(t, s, key("x"), ver(1), data); again != sum {
		t.Fatalf("second sum = %+v, want %+v", again, sum)
	}
	if got := bodies(t, s); got != 500 {
		t.Fatalf("Bodies = %d, want 500 (counted once)", got)
	}
}

func TestRemove(t *testing.T) {
	s := openStore(t, t.TempDir(), 0)
	sum := put(t, s, key("x"), ver(1), pattern(500, 4))
	tests := []struct {
		name string
		key  objstore.Key
		want int64
	}{
		{"never written", key("missing"), 500},
		{"committed", key("x"), 0},
		{"already removed", key("x"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Remove(tt.key, ver(1)); err != nil {
				t.Fatal(err)
			}
			if got := bodies(t, s); got != tt.want {
				t.Fatalf("Bodies = %d, want %d", got, tt.want)
			}
		})
	}
	_, err := s.Open(key("x"), ver(1), sum)
	wantErr(t, err, objstore.ErrNotFound)
}

func TestUsage(t *testing.T) {
	s := openStore(t, t.TempDir(), 1<<30)
	u, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	if u.Total == 0 || u.Free > u.Total || u.Used > u.Total || u.Quota != 1<<30 {
		t.Fatalf("Usage = %+v", u)
	}
}

func TestClosedStore(t *testing.T) {
	s := openStore(t, t.TempDir(), 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Create(key("x"), ver(1))
	wantErr(t, err, os.ErrClosed)
	_, err = s.Open(key("x"), ver(1), objstore.Checksum{})
	wantErr(t, err, os.ErrClosed)
}

func TestConfigValidate(t *testing.T) {
	if _, err := disk.Open(t.TempDir(), disk.Config{Quota: -1}); err == nil {
		t.Fatal("negative quota accepted")
	}
}

func TestHas(t *testing.T) {
	s, err := disk.Open(t.TempDir(), disk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key, v := objstore.Key{Bucket: "b", ID: "k"}, objstore.Version{HLC: 1, Node: "n"}
	if s.Has(key, v) {
		t.Fatal("Has before write")
	}
	w, err := s.Create(key, v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if s.Has(key, v) {
		t.Fatal("Has before commit")
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if !s.Has(key, v) || s.Has(key, objstore.Version{HLC: 2, Node: "n"}) {
		t.Fatal("Has after commit wrong")
	}
	if err := s.Remove(key, v); err != nil || s.Has(key, v) {
		t.Fatalf("Has after remove: %v", err)
	}
}

// TestSweepSkipsWhatIsNotABody checks that the directory walk, which no
// longer stats every entry, still leaves alone directories inside shards
// and entries outside shards, and counts only regular files at Open.
func TestSweepSkipsWhatIsNotABody(t *testing.T) {
	dir := t.TempDir()
	old := openStore(t, dir, 0)
	sum := put(t, old, key("a"), ver(1), pattern(100, 1))
	put(t, old, key("b"), ver(1), pattern(50, 2))
	name := old.Name(key("a"), ver(1))
	stray := filepath.Join(dir, name[:2], "zz-subdir")
	if err := os.Mkdir(stray, 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(dir, "not-a-shard")
	if err := os.WriteFile(outside, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dir, 0)
	mustCount(t, s)
	if got := bodies(t, s); got != 150 {
		t.Fatalf("Bodies counted = %d, want 150", got)
	}
	n, err := s.Sweep(t.Context(), func(n string) bool { return n == name })
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1, nil", n, err)
	}
	if got := bodies(t, s); got != 100 {
		t.Fatalf("Bodies after Sweep = %d, want 100", got)
	}
	for _, p := range []string{stray, outside} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Sweep touched %s: %v", p, err)
		}
	}
	mustEqual(t, get(t, s, key("a"), ver(1), sum), pattern(100, 1))
}

// TestCommitCopy: a body committed without fsyncs (a level-≥1 PUT's local
// copy) is in place and served like any other, with the checksum Sum gave
// before the commit; after a restart the first Open verifies it, so a body
// torn by a machine crash is refused and removed, never served.
func TestCommitCopy(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, 0)
	k, v, data := key("copy"), ver(7), pattern(200_000, 3)
	w, err := s.Create(k, v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	before := w.Sum()
	sum, err := w.CommitCopy()
	if err != nil {
		t.Fatalf("CommitCopy: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if sum != before || sum.Size != int64(len(data)) {
		t.Fatalf("CommitCopy sum %+v, Sum before it %+v", sum, before)
	}
	b, err := s.Open(k, v, sum)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := io.ReadAll(b)
	b.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %v, equal %v", err, bytes.Equal(got, data))
	}

	// A machine crash may leave the renamed file short: the next process
	// refuses it on its first Open.
	if err := os.Truncate(bodyFile(t, dir, s, k, v), 1000); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, 0)
	_, err = s.Open(k, v, sum)
	wantErr(t, err, objstore.ErrChecksum)
	if s.Has(k, v) {
		t.Fatal("torn body still there after its Open failed")
	}
}

// A writer told to skip the MD5 leaves it zero and keeps everything else:
// the size, the CRC-32C, and a body that opens and verifies against them
// with the MD5 filled in later (a streamed upload takes the origin's).
func TestSkipMD5(t *testing.T) {
	s := openStore(t, t.TempDir(), 0)
	k, v, data := key("nomd5"), ver(9), pattern(300_000, 5)
	want := put(t, s, key("withmd5"), ver(9), data)
	w, err := s.Create(k, v)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SkipMD5()
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	sum, err := w.CommitCopy()
	if err != nil {
		t.Fatal(err)
	}
	if sum.MD5 != (objstore.MD5{}) || sum.Size != want.Size || sum.CRC32C != want.CRC32C {
		t.Fatalf("sum without MD5 %+v, want size and CRC-32C of %+v and no MD5", sum, want)
	}
	b, err := s.Open(k, v, want)
	if err != nil {
		t.Fatalf("Open with the whole checksum: %v", err)
	}
	got, err := io.ReadAll(b)
	b.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %v", err)
	}
}
