package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"testing/iotest"

	"sphere.software/objstore"
)

// writeSizes records the size of every write.
type writeSizes struct {
	bytes.Buffer
	sizes []int
}

func (w *writeSizes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

// copyFullWrites writes whole buffers, however small the reads, and the
// rest at the end; a read error other than io.EOF ends the copy with that
// error after the bytes read before it.
func TestCopyFullWrites(t *testing.T) {
	body := randomBody(600_000)
	var dst writeSizes
	n, err := copyFullWrites(&dst, iotest.HalfReader(bytes.NewReader(body)), make([]byte, 256<<10))
	if err != nil || n != int64(len(body)) || !bytes.Equal(dst.Bytes(), body) {
		t.Fatalf("copied %d bytes (%v), same bytes %v; want all %d", n, err, bytes.Equal(dst.Bytes(), body), len(body))
	}
	if want := []int{256 << 10, 256 << 10, 600_000 - 512<<10}; !slices.Equal(dst.sizes, want) {
		t.Fatalf("writes %v, want %v", dst.sizes, want)
	}
	cut := io.MultiReader(bytes.NewReader(body[:300_000]), iotest.ErrReader(io.ErrUnexpectedEOF))
	dst = writeSizes{}
	n, err = copyFullWrites(&dst, cut, make([]byte, 256<<10))
	if !errors.Is(err, io.ErrUnexpectedEOF) || n != 300_000 {
		t.Fatalf("body cut short: copied %d, %v; want 300000 and io.ErrUnexpectedEOF", n, err)
	}
}

// A large level-0 or write-back PUT whose body is cut short fails and
// leaves nothing, as a small one does.
func TestLargePutCutShortLeavesNothing(t *testing.T) {
	n := newTestNode(t, 0)
	body := randomBody(1 << 20)
	for _, back := range []bool{false, true} {
		key := newKey()
		cut := io.MultiReader(bytes.NewReader(body[:700_000]), iotest.ErrReader(io.ErrUnexpectedEOF))
		_, err := n.Put(context.Background(), PutRequest{Key: key, Level: objstore.LevelLocal, WriteBack: back, Size: int64(len(body)), Body: cut})
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("write-back %v: PUT of a body cut short: %v, want io.ErrUnexpectedEOF", back, err)
		}
		if _, err := n.Head(context.Background(), key); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("write-back %v: head after the failed PUT: %v, want not found", back, err)
		}
	}
}

// expectRecorder wraps a body store and records, per key, the size each
// writer was told a durable commit follows for (ExpectCommit), or -1.
type expectRecorder struct {
	Blobs
	mu   sync.Mutex
	told map[objstore.Key]int64
}

func (r *expectRecorder) Create(key objstore.Key, v objstore.Version) (BodyWriter, error) {
	w, err := r.Blobs.Create(key, v)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.told[key] = -1
	r.mu.Unlock()
	return &expectWriter{BodyWriter: w, key: key, r: r}, nil
}

type expectWriter struct {
	BodyWriter
	key objstore.Key
	r   *expectRecorder
}

func (w *expectWriter) ExpectCommit(size int64) {
	w.r.mu.Lock()
	w.r.told[w.key] = size
	w.r.mu.Unlock()
	w.BodyWriter.(commitExpecter).ExpectCommit(size)
}

// A large level-0 or write-back PUT tells its writer that a durable commit
// of its size follows (so that the disk store writes it around the page
// cache); a small one, and one at a level the origin holds (whose local
// copy is never synced), does not. Every body reads back whole.
func TestLargeLocalPutsExpectACommit(t *testing.T) {
	rec := &expectRecorder{told: map[objstore.Key]int64{}}
	n := openNode(t, t.TempDir(), newMemRemote(), nodeSetup{blobs: func(b Blobs) Blobs { rec.Blobs = b; return rec }})
	for _, c := range []struct {
		size  int
		level objstore.Level
		back  bool
		want  bool
	}{
		{3<<20 + 5, objstore.LevelLocal, false, true},
		{3<<20 + 5, objstore.LevelS3, true, true},
		{fullWritesMin, objstore.LevelLocal, false, true},
		{fullWritesMin - 1, objstore.LevelLocal, false, false},
		{3<<20 + 5, objstore.LevelS3, false, false},
	} {
		key, body := newKey(), randomBody(c.size)
		if _, err := n.Put(context.Background(), PutRequest{Key: key, Level: c.level, WriteBack: c.back, Size: int64(len(body)), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
		rec.mu.Lock()
		told := rec.told[key]
		rec.mu.Unlock()
		if want := map[bool]int64{true: int64(c.size), false: -1}[c.want]; told != want {
			t.Errorf("%d bytes at level %d, write-back %v: ExpectCommit(%d), want %d (-1: not called)", c.size, c.level, c.back, told, want)
		}
		got, _, err := read(t, n, key, false)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%d bytes at level %d: read back %d bytes (%v), not the body", c.size, c.level, len(got), err)
		}
	}
}
