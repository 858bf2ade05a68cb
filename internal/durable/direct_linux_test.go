package durable

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"sphere.software/objstore/internal/pagecache"
)

// cachedPages counts the pages of the file at path in the page cache.
func cachedPages(t *testing.T, path string) int {
	t.Helper()
	n, err := pagecache.Resident(path)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A file written with WriteAround holds exactly the bytes written, however
// they were cut: aligned blocks from an aligned buffer (around the page
// cache), an unaligned buffer, a short tail, and blocks after a write that
// left the offset unaligned. A reader following it with ReadAt sees each
// write as soon as it returns. Where the file system takes O_DIRECT, the
// whole blocks of an aligned write never enter the page cache.
func TestWriteAroundKeepsTheBytes(t *testing.T) {
	dir := t.TempDir()
	direct, err := pagecache.DirectWorks(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("O_DIRECT on %s: %v", dir, direct)
	src := make([]byte, 3<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	aligned := AlignedBytes(len(src) + DirectAlign)
	copy(aligned, src)
	unaligned := AlignedBytes(len(src) + 1)[1:]
	copy(unaligned, src)

	const blocks = 1 << 20 // written around the cache where it can be
	cuts := []struct {
		buf      []byte
		from, to int
	}{
		{aligned, 0, 256 << 10},                      // aligned blocks
		{aligned, 256 << 10, blocks},                 // more of them
		{unaligned, blocks, blocks + 64<<10},         // aligned length, unaligned buffer
		{aligned, blocks + 64<<10, blocks + 128<<10}, // aligned again
		{aligned, blocks + 128<<10, 2<<20 + 100},     // a ragged end
		{aligned, 2<<20 + 100, 3<<20 - 7},            // offset unaligned from now on
		{unaligned, 3<<20 - 7, 3 << 20},              // the tail
	}
	f, err := CreateTemp(dir, "body-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteAround()
	if direct != (f.direct != nil) {
		t.Fatalf("WriteAround: descriptor around the cache %v, want %v", f.direct != nil, direct)
	}
	for _, c := range cuts {
		// The buffer's bytes at [from, to) are the body's at [from, to).
		p := c.buf[c.from:c.to]
		if n, err := f.Write(p); err != nil || n != len(p) {
			t.Fatalf("Write [%d, %d): %d, %v", c.from, c.to, n, err)
		}
		got := make([]byte, c.to-c.from)
		if n, err := f.ReadAt(got, int64(c.from)); n != len(got) || !bytes.Equal(got, src[c.from:c.to]) {
			t.Fatalf("ReadAt [%d, %d) right after its Write: %d bytes, %v, not the bytes written", c.from, c.to, n, err)
		}
	}
	if direct {
		// Before the syncs and reads below bring anything in: the first
		// blocks went around the cache. (ReadAt above read them, which
		// may have cached them: check a fresh file instead.)
		g, err := CreateTemp(dir, "cold-*")
		if err != nil {
			t.Fatal(err)
		}
		g.WriteAround()
		// One write of 1 MiB and 100 bytes: its whole blocks go around
		// the cache, its last 100 bytes through it.
		if _, err := g.Write(aligned[:blocks+100]); err != nil {
			t.Fatal(err)
		}
		if n := cachedPages(t, g.Name()); n > 1 {
			t.Errorf("%d pages of a 1 MiB + 100 bytes write are in the page cache, want at most the tail's 1", n)
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
	}
	final := filepath.Join(dir, "body")
	if err := f.Commit(final); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(final)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, src) {
		t.Fatalf("committed file: %d bytes, not the %d written", len(got), len(src))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAlignedBytes(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 32 << 10, 256<<10 + 5} {
		b := AlignedBytes(n)
		if len(b) != n || cap(b) != n {
			t.Errorf("AlignedBytes(%d): len %d cap %d", n, len(b), cap(b))
		}
		if n > 0 && !directAligned(AlignedBytes(n + DirectAlign)[:DirectAlign], 0) {
			t.Errorf("AlignedBytes(%d) is not aligned", n)
		}
	}
}

// Where no descriptor around the cache can be opened, or a write through
// it fails, the file still holds exactly the bytes written: the first
// writes through the page cache, the second from the failed write on. And
// WriteAround after some writes continues after them.
func TestWriteAroundFallsBack(t *testing.T) {
	body := AlignedBytes(1<<20 + 100)
	for i := range body {
		body[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		name string
		open func(string) (*os.File, error)
		// first is written before WriteAround.
		first int
	}{
		{"no O_DIRECT", func(string) (*os.File, error) { return nil, os.ErrInvalid }, 0},
		// A read-only descriptor: its first write fails.
		{"a write around the cache fails", func(p string) (*os.File, error) { return os.Open(p) }, 0},
		{"after writes", openDirectFile, 8192},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := openDirect
			openDirect = tc.open
			t.Cleanup(func() { openDirect = prev })
			dir := t.TempDir()
			f, err := CreateTemp(dir, "body-*")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write(body[:tc.first]); err != nil {
				t.Fatal(err)
			}
			f.WriteAround()
			for off := tc.first; off < len(body); off += 256 << 10 {
				p := body[off:min(off+256<<10, len(body))]
				if n, err := f.Write(p); err != nil || n != len(p) {
					t.Fatalf("Write at %d: %d, %v", off, n, err)
				}
			}
			final := filepath.Join(dir, "body")
			if err := f.Commit(final); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(final)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("committed file: %d bytes (%v), not the %d written", len(got), err, len(body))
			}
		})
	}
}
