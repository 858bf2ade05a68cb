package disk

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"sync"

	"sphere.software/objstore"
)

// chunkSize is how many bytes a Body reads with one pread when it copies a
// body out (WriteTo, and Read into a small buffer): 4 blocks. The chunk is
// read into a buffer, verified there and written from there, so it should
// stay in the CPU's L2 cache between the three; 256 KiB did best in
// BenchmarkServe (see bench_test.go).
const chunkSize = 4 * BlockSize

var chunkBufs = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// Body is a committed body open for reading. Every byte it returns or
// writes out belongs to a block whose CRC-32C it has just checked in its
// own memory: a byte rotted on disk is never handed on, and a check is
// never separated from the bytes sent (no verify-then-sendfile). A block
// that fails its check removes the body, as Open does, reports it to the
// store's corruption handler (SetOnCorrupt), and makes every later read
// fail with an error wrapping objstore.ErrChecksum.
//
// Read, Seek, WriteTo and Close must be called from one goroutine at a
// time; ReadAt may be called from any number of goroutines beside them.
type Body struct {
	s    *Store
	f    *os.File
	fi   fs.FileInfo // the file opened, so reject removes it and not a newer one
	name string
	key  objstore.Key
	v    objstore.Version
	size int64
	bs   int64    // block size
	sums []uint32 // CRC-32C of each block
	// readWhole is set when Open read the body whole against the record's
	// CRC-32C (its first Open in this process): Scrub need not read it again.
	readWhole bool

	off int64 // Read and WriteTo's position
	// buf holds the verified bytes [bufOff, bufOff+bufLen) for Read; nil
	// until a Read needs it, back to the pool at Close.
	buf    *[chunkSize]byte
	bufOff int64
	bufLen int

	mu  sync.Mutex // guards err
	err error      // the first failure; it sticks
}

// Size is the body's length.
func (b *Body) Size() int64 { return b.size }

// Err returns the error that cut reading short, if any: a block that
// failed its check (wrapping objstore.ErrChecksum) or a failed read.
func (b *Body) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// fail records err as the body's failure, if it is the first.
func (b *Body) fail(err error) error {
	err, _ = b.failFirst(err)
	return err
}

// failFirst records err as the body's failure if it is the first, and
// returns the failure and whether err was it.
func (b *Body) failFirst(err error) (error, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err, false
	}
	b.err = err
	return err, true
}

// blockEnd is the end offset of block i.
func (b *Body) blockEnd(i int64) int64 { return min((i+1)*b.bs, b.size) }

// readBlocks reads blocks first, first+1, ... into dst, which must hold a
// whole number of them or end at the body's end, and checks each. It
// returns the bytes read, all verified, or an error.
func (b *Body) readBlocks(dst []byte, first int64) (int, error) {
	if err := b.Err(); err != nil {
		return 0, err
	}
	start := first * b.bs
	n, err := b.f.ReadAt(dst, start)
	if n < len(dst) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, b.fail(fmt.Errorf("disk: read %s at %d: %w", b.name, start, err))
	}
	for i, p := first, dst; len(p) > 0; i++ {
		k := b.blockEnd(i) - i*b.bs
		if got := crc32.Checksum(p[:k], castagnoli); got != b.sums[i] {
			return 0, b.corrupt(i, got)
		}
		p = p[k:]
	}
	return n, nil
}

// corrupt drops the body, whose block i hashed to got, and reports it.
func (b *Body) corrupt(i int64, got uint32) error {
	why := fmt.Sprintf("block %d (bytes %d-%d) crc32c %08x, want %08x", i, i*b.bs, b.blockEnd(i)-1, got, b.sums[i])
	err, first := b.failFirst(b.s.reject(b.name, b.fi, why))
	if first { // ReadAt callers may find the same rot at once: one report
		b.s.reportCorrupt(b.key, b.v, err)
	}
	return err
}

// chunkAt returns the length of the chunk to read from block i for the
// bytes [off, end): the blocks that hold them, as many as fit in a chunk
// buffer, at least one. A read never checks blocks it does not need, so a
// range clear of a rotted block is served whole.
func (b *Body) chunkAt(i, end int64) int {
	blocks := max(chunkSize/b.bs, 1)
	last := min(i+blocks, (end+b.bs-1)/b.bs)
	return int(min(max(last, i+1)*b.bs, b.size) - i*b.bs)
}

// load reads and verifies the chunk holding offset off into buf, for the
// bytes up to end.
func (b *Body) load(off, end int64) error {
	if b.buf == nil {
		if b.bs > chunkSize {
			return b.fail(fmt.Errorf("disk: read %s: blocks of %d bytes are larger than %d", b.name, b.bs, chunkSize))
		}
		b.buf = chunkBufs.Get().(*[chunkSize]byte)
	}
	i := off / b.bs
	b.bufLen = 0
	n, err := b.readBlocks(b.buf[:b.chunkAt(i, end)], i)
	if err != nil {
		return err
	}
	b.bufOff, b.bufLen = i*b.bs, n
	return nil
}

// buffered returns the verified bytes held in buf from off on.
func (b *Body) buffered(off int64) []byte {
	if b.buf == nil || off < b.bufOff || off >= b.bufOff+int64(b.bufLen) {
		return nil
	}
	return b.buf[off-b.bufOff : b.bufLen]
}

// Read reads verified bytes from the current offset. A read that starts on
// a block boundary and has room for whole blocks reads them straight into
// p and checks them there; any other goes through a verified chunk.
func (b *Body) Read(p []byte) (int, error) {
	if err := b.Err(); err != nil {
		return 0, err
	}
	if b.off >= b.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if held := b.buffered(b.off); held != nil {
		k := copy(p, held)
		b.off += int64(k)
		return k, nil
	}
	if k := b.wholeBlocks(b.off, len(p)); k > 0 {
		n, err := b.readBlocks(p[:k], b.off/b.bs)
		b.off += int64(n)
		return n, err
	}
	if err := b.load(b.off, b.off+int64(len(p))); err != nil {
		return 0, err
	}
	k := copy(p, b.buffered(b.off))
	b.off += int64(k)
	return k, nil
}

// wholeBlocks returns how many bytes of whole blocks from off fit in room
// bytes, when off is on a block boundary; else 0.
func (b *Body) wholeBlocks(off int64, room int) int {
	if off%b.bs != 0 {
		return 0
	}
	if rest := b.size - off; int64(room) >= rest {
		return int(rest)
	}
	return room / int(b.bs) * int(b.bs)
}

// Seek sets the offset of the next Read or WriteTo, as os.File.Seek does.
func (b *Body) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.off
	case io.SeekEnd:
		offset += b.size
	default:
		return 0, fmt.Errorf("disk: seek %s: bad whence %d", b.name, whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("disk: seek %s: negative offset %d", b.name, offset)
	}
	b.off = offset
	return offset, nil
}

// WriteTo writes the body from the current offset to its end into w.
func (b *Body) WriteTo(w io.Writer) (int64, error) {
	return b.WriteN(w, b.size-b.off)
}

// WriteN writes n bytes of the body from the current offset into w, or
// fewer and an error. Chunks go from the file into a buffer, are checked
// there and written to w from there, so w gets only verified bytes and
// every byte checked is the byte sent.
func (b *Body) WriteN(w io.Writer, n int64) (int64, error) {
	n = min(n, max(b.size-b.off, 0))
	var done int64
	for done < n {
		held := b.buffered(b.off)
		if held == nil {
			if err := b.load(b.off, b.off+n-done); err != nil {
				return done, err
			}
			held = b.buffered(b.off)
		}
		held = held[:min(int64(len(held)), n-done)]
		k, err := w.Write(held)
		done += int64(k)
		b.off += int64(k)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// ReadAt reads verified bytes at off. It keeps no state but the failure,
// so any number of goroutines may call it, as uploads to the origin do.
func (b *Body) ReadAt(p []byte, off int64) (int, error) {
	var n int
	for n < len(p) && off < b.size {
		if k := b.wholeBlocks(off, len(p)-n); k > 0 {
			got, err := b.readBlocks(p[n:n+k], off/b.bs)
			n += got
			off += int64(got)
			if err != nil {
				return n, err
			}
			continue
		}
		k, err := b.readAtVia(p[n:], off)
		n += k
		off += int64(k)
		if err != nil {
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// readAtVia reads the block holding off into a pooled buffer, checks it
// and copies the bytes from off into p.
func (b *Body) readAtVia(p []byte, off int64) (int, error) {
	if b.bs > chunkSize {
		return 0, b.fail(fmt.Errorf("disk: read %s: blocks of %d bytes are larger than %d", b.name, b.bs, chunkSize))
	}
	buf := chunkBufs.Get().(*[chunkSize]byte)
	defer chunkBufs.Put(buf)
	i := off / b.bs
	n, err := b.readBlocks(buf[:b.blockEnd(i)-i*b.bs], i)
	if err != nil {
		return 0, err
	}
	return copy(p, buf[off-i*b.bs:n]), nil
}

// Close closes the file and returns the read buffer.
func (b *Body) Close() error {
	if b.buf != nil {
		chunkBufs.Put(b.buf)
		b.buf = nil
	}
	if err := b.f.Close(); err != nil {
		return fmt.Errorf("disk: close %s: %w", b.name, err)
	}
	return nil
}
