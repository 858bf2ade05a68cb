package multipart_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/multipart"
	"sphere.software/objstore/internal/objstoretest"
)

// quotaStores opens a body store with quota bytes and a multipart store
// that books its parts on it, as a node does.
func quotaStores(t *testing.T, dir string, quota int64) (*disk.Store, *multipart.Store) {
	t.Helper()
	blobs, err := disk.Open(filepath.Join(dir, "files"), disk.Config{Quota: quota})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	s, err := multipart.Open(multipart.Config{Dir: filepath.Join(dir, "files", "uploads"), MinPartSize: testMinPart,
		MaxPartSize: 8 << 20, Space: blobs, Logger: objstoretest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return blobs, s
}

// free returns how many bytes a Reserve on blobs can still book.
func free(t *testing.T, blobs *disk.Store, quota int64) int64 {
	t.Helper()
	lo, hi := int64(0), quota // the largest n that Reserve(n) accepts
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if blobs.Reserve(mid) == nil {
			blobs.Release(mid)
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// TestPartsCountAgainstTheQuota: staged parts take the disk quota the
// node's bodies share, a part that does not fit fails with
// ErrInsufficientStorage and keeps nothing booked, and replacing, removing
// and reopening keep the booking equal to the parts on disk.
func TestPartsCountAgainstTheQuota(t *testing.T) {
	const quota = 100_000
	dir := t.TempDir()
	blobs, s := quotaStores(t, dir, quota)
	id := create(t, s, "bkt", "k").ID

	put(t, s, id, 1, randomBytes(1, 30_000))
	put(t, s, id, 2, randomBytes(2, 30_000))
	if got := free(t, blobs, quota); got != 40_000 {
		t.Fatalf("free after two parts: %d, want 40000", got)
	}
	// Declared too large: refused before reading.
	if _, err := s.PutPart(context.Background(), id, 3, 50_000, bytes.NewReader(randomBytes(3, 50_000))); !errors.Is(err, objstore.ErrInsufficientStorage) {
		t.Fatalf("part over the quota, declared: %v", err)
	}
	// Undeclared: refused while writing.
	if _, err := s.PutPart(context.Background(), id, 3, -1, bytes.NewReader(randomBytes(3, 50_000))); !errors.Is(err, objstore.ErrInsufficientStorage) {
		t.Fatalf("part over the quota, undeclared: %v", err)
	}
	if got := free(t, blobs, quota); got != 40_000 {
		t.Fatalf("free after refused parts: %d, want 40000", got)
	}
	// A body write on the same disk sees the parts too.
	w, err := blobs.Create(objstore.Key{Bucket: "bkt", ID: "body"}, objstore.Version{HLC: 1, Node: "n"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randomBytes(4, 50_000)); !errors.Is(err, objstore.ErrInsufficientStorage) {
		t.Fatalf("body over what the parts left: %v", err)
	}
	_ = w.Close()

	// Replacing part 1 with a smaller one returns the difference.
	put(t, s, id, 1, randomBytes(5, 10_000))
	if got := free(t, blobs, quota); got != 60_000 {
		t.Fatalf("free after replacing a part: %d, want 60000", got)
	}

	// After a restart the parts on disk are booked again.
	_ = blobs.Close()
	blobs, s = quotaStores(t, dir, quota)
	if got := free(t, blobs, quota); got != 60_000 {
		t.Fatalf("free after reopening: %d, want 60000", got)
	}

	// Removing the upload, with an assembly reader open, returns
	// everything once the reader closes.
	parts, _, err := s.ListParts(id, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	_, r, err := s.Assemble(id, etagsOf(parts...))
	if err != nil {
		t.Fatalf("Assemble: %v", err)
	}
	if err := s.Remove(id); err != nil {
		t.Fatal(err)
	}
	if got := free(t, blobs, quota); got != 60_000 {
		t.Fatalf("free with a reader still open: %d, want 60000", got)
	}
	_ = r.Close()
	if got := free(t, blobs, quota); got != quota {
		t.Fatalf("free after removing the upload: %d, want %d", got, quota)
	}
}
