package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
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
