package disk

import (
	"crypto/md5"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

// castagnoli is the CRC-32C table; crc32 uses the CPU's instruction for it
// where there is one.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// writerState is where a Writer is in its life.
type writerState uint8

const (
	writing writerState = iota
	committed
	closed
)

// Writer writes one body into a temp file, hashing it as it goes. Write,
// Commit and Close must be called from one goroutine at a time. ReadAt may
// be called from any number of other goroutines at the same time as those:
// it reads with pread(2) on the same descriptor, which neither moves nor
// depends on the write offset, and it touches no other field.
type Writer struct {
	s    *Store
	name string
	f    *durable.File // set once by Create; read by ReadAt from any goroutine
	// end is the body's size once Commit starts to write the trailer
	// after it, else -1; ReadAt stops there.
	end atomic.Int64

	crc    uint32
	md5    hash.Hash
	blocks blockSums // the per-block CRC-32Cs, written as the trailer
	size   int64
	// reserved is the quota this writer holds: bytes written, not committed.
	reserved int64
	// err is the first Write or Commit failure; it sticks.
	err   error
	state writerState
	sum   objstore.Checksum

	// held is the buffer Hold gave: the body's first bytes are kept in it
	// rather than written to the file, until the commit writes them there
	// or a Write outgrows it (flushHeld, which sets flushed). Set before
	// the first Write and never changed after; heldN, the bytes it holds,
	// tells ReadAt how far it may read there.
	held    []byte
	heldN   atomic.Int64
	flushed bool
	// heldMu is read-locked by ReadAt while it copies from held, and
	// locked by Close to set released: an HTTP client may still read an
	// upload's body after its request returned, and once Close returns the
	// buffer may hold another body.
	heldMu   sync.RWMutex
	released bool
}

// Create starts writing the body of version v of key into a temp file.
// Nothing is visible to Open until the Writer's Commit returns.
func (s *Store) Create(key objstore.Key, v objstore.Version) (*Writer, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	name := fileName(key, v)
	f, err := durable.CreateTemp(s.tmpSub(int(s.nextTmp.Add(1)%tmpSpread)), name+".*")
	if err != nil {
		return nil, ioError("create", name, err)
	}
	w := &Writer{s: s, name: name, f: f, md5: md5.New(), blocks: blockSums{bs: BlockSize}}
	w.end.Store(-1)
	return w, nil
}

// Write appends p to the body. It fails with an error wrapping
// objstore.ErrInsufficientStorage when p would take the store past its
// quota or the disk is full; after any failure the body is lost and only
// Close is useful.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.writable(); err != nil {
		return 0, err
	}
	want := int64(len(p))
	if err := w.s.reserve(want); err != nil {
		w.err = fmt.Errorf("disk: write %s: %w", w.name, err)
		return 0, w.err
	}
	w.reserved += want
	n, err := w.store(p)
	if short := want - int64(n); short > 0 {
		w.s.release(short)
		w.reserved -= short
	}
	w.crc = crc32.Update(w.crc, castagnoli, p[:n])
	if w.md5 != nil {
		w.md5.Write(p[:n]) // never fails
	}
	w.blocks.write(p[:n])
	w.size += int64(n)
	if err != nil {
		w.err = ioError("write", w.name, err)
		return n, w.err
	}
	return n, nil
}

// store puts p after the bytes written so far: into the held buffer while
// it has room, else into the file, after the held bytes.
func (w *Writer) store(p []byte) (int, error) {
	if w.held != nil && !w.flushed {
		if end := w.size + int64(len(p)); end <= int64(len(w.held)) {
			copy(w.held[w.size:end], p)
			w.heldN.Store(end)
			return len(p), nil
		}
		if err := w.flushHeld(); err != nil {
			return 0, err
		}
	}
	return w.f.Write(p)
}

// Hold keeps the body in buf, rather than in the file, while it is
// written, for a body that something reads back as it arrives (a streamed
// upload, internal/node) and that buf can hold whole: Write copies into
// buf, ReadAt reads from it, and the commit writes the body to the file in
// one write, around the page cache when it is larger than GroupCommitMax
// (durable.File.WriteAround, which wants buf aligned: durable.AlignedBytes).
// The body's bytes then take no page cache on their way, which they would
// otherwise take twice on a machine that also runs the origin, and the
// reader never waits for a write to the file. A body that outgrows buf
// goes on in the file, after what buf held. Call it before the first Write;
// buf must stay untouched until Close returns, after which ReadAt no longer
// reads it.
func (w *Writer) Hold(buf []byte) {
	if w.size == 0 && w.state == writing && w.held == nil {
		w.held = buf
	}
}

// flushHeld writes the held bytes to the file (Hold); later Writes go to
// the file too.
func (w *Writer) flushHeld() error {
	if w.held == nil || w.flushed {
		return nil
	}
	w.flushed = true
	if w.size > GroupCommitMax {
		w.f.WriteAround()
	}
	_, err := w.f.Write(w.held[:w.size])
	return err
}

// writable returns why Write may not be called now, if it may not.
func (w *Writer) writable() error {
	switch {
	case w.err != nil:
		return w.err
	case w.state == committed:
		return fmt.Errorf("disk: write %s: already committed", w.name)
	case w.state == closed:
		return fmt.Errorf("disk: write %s: %w", w.name, fs.ErrClosed)
	}
	return nil
}

// ReadAt reads bytes already written, even after Commit, until Close. At
// the end of what has been written so far it returns io.EOF; a reader
// following a body still arriving must wait and try again. It is safe to
// call concurrently with Write, Commit and other ReadAt calls.
func (w *Writer) ReadAt(p []byte, off int64) (int, error) {
	if held := w.heldN.Load(); off < held {
		w.heldMu.RLock()
		if w.released {
			w.heldMu.RUnlock()
			return 0, fmt.Errorf("disk: read %s: %w", w.name, fs.ErrClosed)
		}
		n := copy(p, w.held[off:held])
		w.heldMu.RUnlock()
		if n == len(p) {
			return n, nil
		}
		k, err := w.readFile(p[n:], off+int64(n))
		return n + k, err
	}
	return w.readFile(p, off)
}

// readFile is ReadAt from the file.
func (w *Writer) readFile(p []byte, off int64) (int, error) {
	if end := w.end.Load(); end >= 0 && off+int64(len(p)) > end {
		if off >= end {
			return 0, io.EOF
		}
		n, err := w.f.ReadAt(p[:end-off], off)
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	return w.f.ReadAt(p, off)
}

// Sum returns the checksum of the bytes written so far, without making
// them durable: what Commit returns when nothing more is written. A PUT
// checks it and builds its record with it while Commit runs beside the
// upload (internal/node, putoverlap.go). Like Write, it is called from
// the writing goroutine.
func (w *Writer) Sum() objstore.Checksum {
	sum := objstore.Checksum{Size: w.size, CRC32C: w.crc}
	if w.md5 != nil {
		w.md5.Sum(sum.MD5[:0])
	}
	return sum
}

// SkipMD5 stops the writer from computing the body's MD5, which Sum and
// Commit then leave zero: for a body whose MD5 the origin computes as it
// receives it (a streamed upload, internal/node), where hashing it here
// too would cost the PUT most of its CPU. Call it before the first Write.
func (w *Writer) SkipMD5() { w.md5 = nil }

// ExpectCommit tells the writer, before its first Write, that the body is
// size bytes long and that Commit, not CommitCopy, will make it durable. A
// body that Commit fsyncs whole (more than GroupCommitMax bytes) is then
// written around the page cache (durable.File.WriteAround) wherever a
// Write hands it whole aligned blocks from an aligned buffer
// (durable.AlignedBytes): those bytes need no writeback by the fsync and
// no copy into the page cache, and the pages a large PUT would take from
// the cache stay with what is read. The first read of the body then comes
// from the disk.
func (w *Writer) ExpectCommit(size int64) {
	if size > GroupCommitMax {
		w.f.WriteAround()
	}
}

// Commit makes the body durable under its name (replacing a body of the
// same key and version, which holds the same bytes) and returns the
// checksum of what was written. A body new to its name and of at most
// GroupCommitMax bytes is renamed into place and made durable by the
// store's group sync (durable.Barrier); a larger one, one that replaces a
// file, or every one with Config.FsyncEach, is fsynced before its rename
// and its directory after. After a failed Write it
// returns that Write's error. A second Commit returns the same checksum.
func (w *Writer) Commit() (objstore.Checksum, error) { return w.commit(true) }

// CommitCopy is Commit for a body whose durable copy is elsewhere: a
// level-≥1 PUT's, which is in the origin before its record is journaled.
// It renames the body into place without fsyncing it or its directory, so
// after a crash of the machine the body may be missing, or torn; the first
// Open in a process verifies it against its checksum and removes a torn
// one, and the node reads a missing body from the origin again. A crash of
// the process alone loses nothing (the bytes are in the page cache).
func (w *Writer) CommitCopy() (objstore.Checksum, error) { return w.commit(false) }

func (w *Writer) commit(sync bool) (objstore.Checksum, error) {
	if w.state == committed && w.err == nil {
		return w.sum, nil
	}
	if err := w.writable(); err != nil {
		return objstore.Checksum{}, err
	}
	if err := w.flushHeld(); err != nil {
		w.err = ioError("write", w.name, err)
		return objstore.Checksum{}, w.err
	}
	fileSize, err := w.writeTrailer()
	if err != nil {
		w.err = err
		return objstore.Checksum{}, w.err
	}
	err = w.s.install(w.f, w.name, fileSize, sync)
	if w.f.Renamed() {
		// The renamed file's bytes now count as held, or were removed again.
		w.reserved = 0
	}
	if err != nil {
		w.err = ioError("commit", w.name, err)
		return objstore.Checksum{}, w.err
	}
	w.sum = objstore.Checksum{Size: w.size, CRC32C: w.crc}
	if w.md5 != nil {
		w.md5.Sum(w.sum.MD5[:0])
	}
	w.state = committed
	return w.sum, nil
}

// writeTrailer appends the block checksums after a body of more than one
// block (see blocks.go) and returns the file's size. The trailer counts
// against the quota like the body. Readers following the body with ReadAt
// stop at its size, so they never see the trailer.
func (w *Writer) writeTrailer() (int64, error) {
	sums := w.blocks.done()
	if len(sums) <= 1 {
		return w.size, nil
	}
	w.end.Store(w.size)
	t := encodeTrailer(sums, BlockSize)
	if err := w.s.reserve(int64(len(t))); err != nil {
		return 0, fmt.Errorf("disk: commit %s: %w", w.name, err)
	}
	w.reserved += int64(len(t))
	if _, err := w.f.Write(t); err != nil {
		return 0, ioError("write", w.name, err)
	}
	return w.size + int64(len(t)), nil
}

// Close closes the file. Without a successful Commit it removes the temp
// file and returns the quota it held. Closing twice is not an error.
func (w *Writer) Close() error {
	if w.state == closed {
		return nil
	}
	w.state = closed
	w.heldMu.Lock()
	w.released = true
	w.heldMu.Unlock()
	// The file removes itself unless it was renamed into place.
	err := w.f.Close()
	w.s.release(w.reserved)
	w.reserved = 0
	if err != nil {
		return fmt.Errorf("disk: close %s: %w", w.name, err)
	}
	return nil
}

// ioError wraps an error of op on the body called name, adding
// objstore.ErrInsufficientStorage when the disk or the user's disk quota
// is full.
func ioError(op, name string, err error) error {
	if durable.NoSpace(err) {
		return fmt.Errorf("disk: %s %s: %w: %w", op, name, objstore.ErrInsufficientStorage, err)
	}
	return fmt.Errorf("disk: %s %s: %w", op, name, err)
}
