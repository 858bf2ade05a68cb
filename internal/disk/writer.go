package disk

import (
	"crypto/md5"
	"fmt"
	"hash"
	"hash/crc32"
	"io/fs"

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

	crc  uint32
	md5  hash.Hash
	size int64
	// reserved is the quota this writer holds: bytes written, not committed.
	reserved int64
	// err is the first Write or Commit failure; it sticks.
	err   error
	state writerState
	sum   objstore.Checksum
}

// Create starts writing the body of version v of key into a temp file.
// Nothing is visible to Open until the Writer's Commit returns.
func (s *Store) Create(key objstore.Key, v objstore.Version) (*Writer, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	name := fileName(key, v)
	f, err := durable.CreateTemp(s.tmp, name+".*")
	if err != nil {
		return nil, ioError("create", name, err)
	}
	return &Writer{s: s, name: name, f: f, md5: md5.New()}, nil
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
	n, err := w.f.Write(p)
	if short := want - int64(n); short > 0 {
		w.s.release(short)
		w.reserved -= short
	}
	w.crc = crc32.Update(w.crc, castagnoli, p[:n])
	w.md5.Write(p[:n]) // never fails
	w.size += int64(n)
	if err != nil {
		w.err = ioError("write", w.name, err)
		return n, w.err
	}
	return n, nil
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
	return w.f.ReadAt(p, off)
}

// Commit fsyncs the body, renames it into place (replacing a body of the
// same key and version, which holds the same bytes), fsyncs the directory
// and returns the checksum of what was written. After a failed Write it
// returns that Write's error. A second Commit returns the same checksum.
func (w *Writer) Commit() (objstore.Checksum, error) {
	if w.state == committed && w.err == nil {
		return w.sum, nil
	}
	if err := w.writable(); err != nil {
		return objstore.Checksum{}, err
	}
	if err := w.f.Sync(); err != nil {
		w.err = ioError("sync", w.name, err)
		return objstore.Checksum{}, w.err
	}
	err := w.s.install(w.f, w.name, w.size)
	if w.f.Renamed() {
		// The renamed file's bytes now count as held, or were removed again.
		w.reserved = 0
	}
	if err != nil {
		w.err = ioError("commit", w.name, err)
		return objstore.Checksum{}, w.err
	}
	w.sum = objstore.Checksum{Size: w.size, CRC32C: w.crc}
	w.md5.Sum(w.sum.MD5[:0])
	w.state = committed
	return w.sum, nil
}

// Close closes the file. Without a successful Commit it removes the temp
// file and returns the quota it held. Closing twice is not an error.
func (w *Writer) Close() error {
	if w.state == closed {
		return nil
	}
	w.state = closed
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
