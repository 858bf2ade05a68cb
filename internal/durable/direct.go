package durable

import (
	"io"
	"unsafe"
)

// DirectAlign is the alignment that a write around the page cache needs:
// of its buffer's address, its length and its offset in the file. 4096 is
// the logical block size of every disk objstore expects, or a multiple of
// it.
const DirectAlign = 4096

// AlignedBytes returns a slice of n bytes whose first byte is at an
// address that is a multiple of DirectAlign, for buffers that File.Write
// may send around the page cache.
func AlignedBytes(n int) []byte {
	b := make([]byte, n+DirectAlign)
	skip := (DirectAlign - int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))%DirectAlign)) % DirectAlign
	return b[skip : skip+n : skip+n]
}

// directAligned reports whether p may be written at off around the page
// cache.
func directAligned(p []byte, off int64) bool {
	return len(p) > 0 && len(p)%DirectAlign == 0 && off%DirectAlign == 0 &&
		uintptr(unsafe.Pointer(unsafe.SliceData(p)))%DirectAlign == 0
}

// openDirect opens the file at path for writes around the page cache; a
// test may replace it.
var openDirect = openDirectFile

// WriteAround makes later Writes send what they can around the page cache
// (O_DIRECT): the whole blocks at the start of a write from an aligned
// buffer (see DirectAlign, and AlignedBytes) at an aligned offset go
// straight to the disk through a second descriptor; the rest, the tail of
// a body say, and every write after it, goes through the page cache as
// before. It is for a file that Sync (or Commit) will make durable, or
// whose bytes should not take page cache on their way (a body held in
// memory until its commit, internal/disk's Writer.Hold): the blocks
// written around the cache then need no writeback at the sync, cost no
// copy into the page cache, and take none of its memory. It is not an
// error where the file system cannot do it (tmpfs): every write then goes
// through the page cache.
func (f *File) WriteAround() {
	if f.state != writing || f.positioned {
		return
	}
	off, err := f.f.Seek(0, io.SeekCurrent) // what Write wrote so far
	if err != nil {
		return
	}
	if d, err := openDirect(f.f.Name()); err == nil {
		f.direct, f.positioned, f.off = d, true, off
	}
}

// writeAt is Write once WriteAround has opened a second descriptor: both
// descriptors write at f.off, which they share. The whole aligned blocks at
// the start of p go around the page cache, the rest through it. A write
// around the cache that fails (a file system that refuses O_DIRECT for
// this file, with EINVAL) sends the rest of the file, this write's rest
// first, through the page cache, where a failure that is not about the
// cache (a full disk) shows again and is returned.
func (f *File) writeAt(p []byte) (int, error) {
	n := 0
	if f.direct != nil {
		blocks := len(p) / DirectAlign * DirectAlign
		if blocks > 0 && directAligned(p[:blocks], f.off) {
			k, err := f.direct.WriteAt(p[:blocks], f.off)
			f.off += int64(k)
			n = k
			if err != nil {
				_ = f.direct.Close()
				f.direct = nil
			}
		}
	}
	if n == len(p) {
		return n, nil
	}
	k, err := f.f.WriteAt(p[n:], f.off)
	f.off += int64(k)
	return n + k, err
}
