package node

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
)

// flipBody flips a bit of the byte at off in the local body file of rec.
func flipBody(t *testing.T, n *testNode, rec objstore.Record, off int64) {
	t.Helper()
	flipAt(t, bodyPath(n, rec.Key, rec.BodyVersion), off)
}

// TestRotCutsLocalRead: a body rotted on disk after it was read once is
// cut before the rotted block, whether copied with WriteBody (as the
// handlers do) or read; Err says why; the next Get reads the origin.
func TestRotCutsLocalRead(t *testing.T) {
	n := newTestNode(t, 0)
	key, body := newKey(), randomBody(10*disk.BlockSize) // over the memory cache's limit
	rec := put(t, n, key, body, objstore.LevelS3)
	if got, _, err := read(t, n, key, false); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("first read: %v", err)
	}
	flipBody(t, n, rec, 6*disk.BlockSize+5)

	obj, err := n.Get(context.Background(), key, false)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// A range clear of the rotted block is whole.
	if k, err := obj.WriteBody(&out, disk.BlockSize, 2*disk.BlockSize); err != nil || k != 2*disk.BlockSize {
		t.Fatalf("range before the rotted block: %d, %v", k, err)
	}
	if !bytes.Equal(out.Bytes(), body[disk.BlockSize:3*disk.BlockSize]) {
		t.Fatal("range before the rotted block: wrong bytes")
	}
	out.Reset()
	k, err := obj.WriteBody(&out, 0, int64(len(body)))
	if !errors.Is(err, objstore.ErrChecksum) || !errors.Is(obj.Err(), objstore.ErrChecksum) {
		t.Fatalf("full copy: %d bytes, err %v, Err %v; want a checksum mismatch", k, err, obj.Err())
	}
	if k > 6*disk.BlockSize || !bytes.Equal(out.Bytes(), body[:k]) {
		t.Fatalf("full copy wrote %d bytes: past the rotted block or wrong", k)
	}
	_ = obj.Close() // read-only

	// The cut reported the rot, and the repair it started reads the origin
	// in the background: the next read gets the body from the origin
	// itself, or the repaired local copy when the repair came first.
	got, obj, err := read(t, n, key, false)
	if err != nil || !bytes.Equal(got, body) || (obj.Source != SourceRemote && obj.Source != SourceLocal) {
		t.Fatalf("read after the cut: err %v, equal %v, source %v; want the body from the origin or its repaired copy", err, bytes.Equal(got, body), obj.Source)
	}
}

// TestRotFillsNoCacheEntry: a small body whose file rots after it left the
// memory cache is not read back into it: the fill's read fails its check,
// and the body comes from the origin.
func TestRotFillsNoCacheEntry(t *testing.T) {
	n := newTestNode(t, 0)
	key, body := newKey(), randomBody(4096)
	rec := put(t, n, key, body, objstore.LevelS3)
	flipBody(t, n, rec, 100)
	n.hot.invalidate(key)
	got, obj, err := read(t, n, key, false)
	if err != nil || !bytes.Equal(got, body) || obj.Source != SourceRemote {
		t.Fatalf("read of a rotted small body: err %v, equal %v, source %v; want the body from the origin", err, bytes.Equal(got, body), obj.Source)
	}
}

// TestHotEntryChecked: a memory cache entry whose bytes changed in memory
// is dropped on its next serve, and the read goes to the disk.
func TestHotEntryChecked(t *testing.T) {
	n := newTestNode(t, 0)
	key, body := newKey(), randomBody(4096)
	put(t, n, key, body, objstore.LevelLocal)
	if _, _, err := read(t, n, key, false); err != nil {
		t.Fatal(err)
	}
	obj, ok := n.GetHot(key)
	if !ok {
		t.Fatal("the body is not in memory")
	}
	obj.Bytes[10] ^= 1 // a stray write through the shared slice
	if _, ok := n.GetHot(key); ok {
		t.Fatal("a changed memory entry was served")
	}
	got, _, err := read(t, n, key, false)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read after the entry was dropped: err %v, equal %v", err, bytes.Equal(got, body))
	}
}
