package disk_test

import (
	"os"
	"testing"

	"sphere.software/objstore"
)

// TestScrubFindsRotAfterVerify shows what Open cannot: a body this process
// has verified (and so serves without reading) that rots afterwards is
// found by Scrub, removed, and reported as a checksum mismatch.
func TestScrubFindsRotAfterVerify(t *testing.T) {
	dir := t.TempDir()
	k, v := key("obj"), ver(1)
	sum := put(t, openStore(t, dir, 0), k, v, pattern(100_000, 3))
	s := openStore(t, dir, 0) // a restart: nothing verified yet
	f, err := s.Open(k, v, sum)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Close() // read-only
	if err := s.Scrub(k, v, sum); err != nil {
		t.Fatalf("Scrub of a good body: %v", err)
	}
	path := bodyFile(t, dir, s, k, v)
	flip(t, path, 77_777)
	if f, err := s.Open(k, v, sum); err != nil {
		t.Fatalf("Open trusts a verified body, got %v", err)
	} else {
		_ = f.Close() // read-only
	}
	wantErr(t, s.Scrub(k, v, sum), objstore.ErrChecksum)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("corrupt body still there: %v", err)
	}
	_, err = s.Open(k, v, sum)
	wantErr(t, err, objstore.ErrNotFound)
	wantErr(t, s.Scrub(k, v, sum), objstore.ErrNotFound)
}

// TestScrubFindsRotBeforeVerify: a body not read since the start is read
// once by Scrub (through Open's whole-body check) and its rot is found.
func TestScrubFindsRotBeforeVerify(t *testing.T) {
	dir := t.TempDir()
	k, v := key("obj"), ver(1)
	sum := put(t, openStore(t, dir, 0), k, v, pattern(300_000, 5))
	s := openStore(t, dir, 0) // a restart: nothing verified yet
	path := bodyFile(t, dir, s, k, v)
	flip(t, path, 200_001)
	wantErr(t, s.Scrub(k, v, sum), objstore.ErrChecksum)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("corrupt body still there: %v", err)
	}
}
