package multipart

import (
	"cmp"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

// Part describes one uploaded part.
type Part struct {
	// Number is the part number, 1..MaxParts.
	Number int
	Size   int64
	// ETag is the MD5 as S3 gives a part's ETag: 32 hex digits in double
	// quotes.
	ETag     string
	MD5      objstore.MD5
	Modified time.Time
}

// newPart returns the Part with these fields and the ETag of sum.
func newPart(number int, size int64, sum objstore.MD5, modified time.Time) Part {
	return Part{Number: number, Size: size, ETag: `"` + sum.String() + `"`, MD5: sum, Modified: modified}
}

// PutPart stores part number of the upload id, replacing a part of that
// number atomically, and returns it once it is durable. size is the
// declared length of body, or -1 (any negative) when unknown; body is read
// to its end.
//
// Nothing is kept on any error. The errors wrap ErrNoSuchUpload for an
// unknown or malformed id (also when the upload is removed while its part
// is written), ErrInvalidPartNumber for a number outside 1..MaxParts,
// objstore.ErrTooLarge for a part over the maximum part size (checked
// before reading when size is declared), objstore.ErrIncomplete for a body
// shorter or longer than size, objstore.ErrInsufficientStorage for a full
// disk, ctx's error when ctx is done, or body's read error.
func (s *Store) PutPart(ctx context.Context, id string, number int, size int64, body io.Reader) (Part, error) {
	u, err := s.lookup(id)
	if err != nil {
		return Part{}, fmt.Errorf("multipart: put part %d of %q: %w", number, id, err)
	}
	if number < 1 || number > MaxParts {
		return Part{}, fmt.Errorf("multipart: put part %d of %s: %w (want 1..%d)", number, id, ErrInvalidPartNumber, MaxParts)
	}
	if size > s.maxPart {
		return Part{}, fmt.Errorf("multipart: put part %d of %s: %d bytes, limit %d: %w", number, id, size, s.maxPart, objstore.ErrTooLarge)
	}
	f, p, err := s.writeTemp(ctx, size, body)
	if err != nil {
		return Part{}, fmt.Errorf("multipart: put part %d of %s: %w", number, id, err)
	}
	p.Number = number
	err = s.install(u, f, p)
	// Close removes the temp file unless install renamed it.
	if cerr := f.Close(); err == nil && cerr != nil {
		err = ioError("close", cerr)
	}
	if err != nil {
		return Part{}, fmt.Errorf("multipart: put part %d of %s: %w", number, id, err)
	}
	return p, nil
}

// bookingWriter books on the quota the bytes written through it before
// writing them; booked is what it holds.
type bookingWriter struct {
	w      io.Writer
	space  Space
	booked int64
	n      int64 // bytes written
}

func (b *bookingWriter) Write(p []byte) (int, error) {
	if more := b.n + int64(len(p)) - b.booked; more > 0 {
		if err := b.space.Reserve(more); err != nil {
			return 0, err
		}
		b.booked += more
	}
	n, err := b.w.Write(p)
	b.n += int64(n)
	return n, err
}

// writeTemp writes body to a new synced temp file in tmp and returns it,
// open, and the part it holds, without a number. On error it leaves
// nothing.
//
// The part's bytes are booked on the quota as they are written (a declared
// size all at once, before reading, so that a part that cannot fit fails
// at once); on success they stay booked, for the caller to hand on.
func (s *Store) writeTemp(ctx context.Context, size int64, body io.Reader) (_ *durable.File, _ Part, err error) {
	book := &bookingWriter{space: s.space}
	if size > 0 {
		if err := s.space.Reserve(size); err != nil {
			return nil, Part{}, err
		}
		book.booked = size
	}
	tf, err := durable.CreateTemp(s.tmp, "part-*")
	if err != nil {
		s.space.Release(book.booked)
		return nil, Part{}, ioError("create temp", err)
	}
	book.w = tf
	defer func() {
		if err != nil {
			_ = tf.Close() // removes the discarded file; err is what to report
			s.space.Release(book.booked)
		}
	}()
	limit := s.maxPart
	if size >= 0 {
		limit = size
	}
	h := md5.New()
	n, err := copyBody(ctx, io.MultiWriter(book, h), body, limit)
	switch {
	case err != nil:
		return nil, Part{}, err
	case size >= 0 && n > size:
		return nil, Part{}, fmt.Errorf("body longer than the declared %d bytes: %w", size, objstore.ErrIncomplete)
	case size >= 0 && n < size:
		return nil, Part{}, fmt.Errorf("body of %d bytes, declared %d: %w", n, size, objstore.ErrIncomplete)
	case n > s.maxPart:
		return nil, Part{}, fmt.Errorf("body over %d bytes: %w", s.maxPart, objstore.ErrTooLarge)
	}
	// The file's mtime is the part's Modified time, from the store's
	// clock, so that it reads the same after a restart.
	now := s.now()
	if err := os.Chtimes(tf.Name(), now, now); err != nil {
		return nil, Part{}, ioError("set time", err)
	}
	if err := tf.Sync(); err != nil {
		return nil, Part{}, ioError("sync", err)
	}
	var sum objstore.MD5
	h.Sum(sum[:0])
	return tf, newPart(0, n, sum, now), nil
}

// copyBufSize is the size of the buffers parts are copied with.
const copyBufSize = 256 << 10

var copyBufs = sync.Pool{New: func() any { return new([copyBufSize]byte) }}

// copyBody copies up to limit+1 bytes of body to w, so that a body longer
// than limit shows as n > limit, and returns how many it copied. It
// checks ctx before every read. Errors of w are wrapped by ioError.
func copyBody(ctx context.Context, w io.Writer, body io.Reader, limit int64) (int64, error) {
	if limit < math.MaxInt64 {
		limit++
	}
	buf := copyBufs.Get().(*[copyBufSize]byte)
	defer copyBufs.Put(buf)
	src := io.LimitReader(ctxReader{ctx: ctx, r: body}, limit)
	n, err := io.CopyBuffer(w, src, buf[:])
	if errors.As(err, new(readError)) {
		return n, err
	}
	if err != nil {
		return n, ioError("write", err)
	}
	return n, nil
}

// ctxReader reads from r until ctx is done. Its errors are readErrors, so
// that copyBody can tell them from the writer's.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, readError{err}
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = readError{err}
	}
	return n, err
}

// readError is an error of the body being read, not of the disk.
type readError struct{ err error }

func (e readError) Error() string { return "read body: " + e.err.Error() }
func (e readError) Unwrap() error { return e.err }

// install renames the synced temp file f into u's directory as part p,
// makes that durable and removes the file of the part it replaces. The
// part's booked bytes become u's, or are released if it is not installed.
func (s *Store) install(u *upload, f *durable.File, p Part) error {
	var old storedPart
	var replaced bool
	// The rename happens under u's lock; the directory fsync after it, so
	// that other installs may share it. Until that fsync a crash may lose
	// the rename: the old part, if any, must stay on disk till then.
	err := f.CommitFunc(func(rename func(string) error) error {
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.removed {
			return ErrNoSuchUpload
		}
		sp := storedPart{Part: p, gen: u.nextGen}
		u.nextGen++
		if err := rename(filepath.Join(u.dir, sp.name())); err != nil {
			return ioError("rename", err)
		}
		old, replaced = u.parts[p.Number]
		u.parts[p.Number] = sp
		u.booked += p.Size
		return nil
	})
	if !f.Renamed() {
		s.space.Release(p.Size)
		return err
	}
	if err != nil {
		u.mu.RLock()
		removed := u.removed
		u.mu.RUnlock()
		if removed {
			return ErrNoSuchUpload // its directory moved away under us
		}
		return ioError("sync dir", err)
	}
	if replaced {
		s.dropPart(u, old)
	}
	return nil
}

// dropPart removes the file of a superseded part of u, or leaves it to the
// last open Assembly reader.
func (s *Store) dropPart(u *upload, p storedPart) {
	u.mu.Lock()
	if u.pins > 0 || u.removed {
		// Pinned: the last reader removes it. Removed: the upload's
		// directory goes whole, with its booking.
		if !u.removed {
			u.deferred = append(u.deferred, p)
		}
		u.mu.Unlock()
		return
	}
	path := filepath.Join(u.dir, p.name())
	u.mu.Unlock()
	s.removeFile(u, path, p.Size)
}

// removeFile removes a superseded part file of u, of size bytes, and
// returns them to the quota. A missing file is fine; a failure is logged
// and the bytes stay booked: the file is superseded, and the next Open or
// the upload's removal takes it away.
func (s *Store) removeFile(u *upload, path string, size int64) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("cannot remove superseded part", "path", path, "err", err)
		return
	}
	u.mu.Lock()
	if u.removed {
		// purge has released (or will release) everything booked.
		u.mu.Unlock()
		return
	}
	u.booked -= size
	u.mu.Unlock()
	s.space.Release(size)
}

// ListParts returns up to max parts of the upload id with numbers above
// after, ascending by number, and whether more follow. max ≤ 0 means
// DefaultMaxList. It fails with an error wrapping ErrNoSuchUpload.
func (s *Store) ListParts(id string, after, max int) (parts []Part, truncated bool, err error) {
	u, err := s.lookup(id)
	if err != nil {
		return nil, false, fmt.Errorf("multipart: list parts of %q: %w", id, err)
	}
	if max <= 0 {
		max = DefaultMaxList
	}
	u.mu.RLock()
	if u.removed {
		u.mu.RUnlock()
		return nil, false, fmt.Errorf("multipart: list parts of %q: %w", id, ErrNoSuchUpload)
	}
	for n, p := range u.parts {
		if n > after {
			parts = append(parts, p.Part)
		}
	}
	u.mu.RUnlock()
	slices.SortFunc(parts, func(a, b Part) int { return cmp.Compare(a.Number, b.Number) })
	if len(parts) > max {
		return parts[:max:max], true, nil
	}
	return parts, false, nil
}
