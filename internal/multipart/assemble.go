package multipart

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sphere.software/objstore"
)

// CompletePart is one entry of a CompleteMultipartUpload request.
type CompletePart struct {
	Number int
	// ETag is as the client sends it: with or without double quotes; the
	// hex digits are matched in any case.
	ETag string
}

// Assembly describes the object a completion makes.
type Assembly struct {
	Info Info
	// Size is the sum of the sizes of Parts.
	Size int64
	// ETag is S3's multipart ETag: the hex MD5 of the concatenated binary
	// MD5s of Parts, a dash and the number of parts, in double quotes.
	ETag string
	// Parts are the parts the completion chose, in order.
	Parts []Part
}

// Assemble validates the completion want of the upload id and returns the
// object it makes and a reader of that object's body: the chosen parts, in
// order. Parts uploaded but not listed are ignored, as S3 does. The errors
// wrap ErrNoSuchUpload, ErrMalformedComplete for an empty list,
// ErrInvalidPartOrder for numbers not strictly ascending, ErrInvalidPart
// for a part not uploaded or with another ETag, and ErrEntityTooSmall for
// a part but the last under the minimum part size, checked in that order.
//
// The reader must be closed. Until then it reads the parts that were
// validated, whatever PutPart and Remove do meanwhile (see the package
// doc). Assemble does not remove the upload: call Remove once the body is
// stored.
func (s *Store) Assemble(id string, want []CompletePart) (*Assembly, io.ReadCloser, error) {
	u, err := s.lookup(id)
	if err == nil {
		err = checkOrder(want)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("multipart: assemble %q: %w", id, err)
	}
	u.mu.Lock()
	if u.removed {
		u.mu.Unlock()
		return nil, nil, fmt.Errorf("multipart: assemble %q: %w", id, ErrNoSuchUpload)
	}
	chosen, err := s.chooseLocked(u, want)
	if err != nil {
		u.mu.Unlock()
		return nil, nil, fmt.Errorf("multipart: assemble %s: %w", id, err)
	}
	u.pins++
	u.mu.Unlock()

	a := &Assembly{Info: u.info.clone(), Parts: make([]Part, len(chosen))}
	for i, p := range chosen {
		a.Parts[i] = p.Part
		a.Size += p.Size
	}
	a.ETag = multipartETag(a.Parts)
	return a, &reader{s: s, u: u, parts: chosen}, nil
}

// checkOrder checks that want lists parts in strictly ascending order.
func checkOrder(want []CompletePart) error {
	if len(want) == 0 {
		return ErrMalformedComplete
	}
	for i := 1; i < len(want); i++ {
		if want[i].Number <= want[i-1].Number {
			return fmt.Errorf("%w: part %d after part %d", ErrInvalidPartOrder, want[i].Number, want[i-1].Number)
		}
	}
	return nil
}

// chooseLocked returns the stored parts want names, checking their ETags
// and sizes. u.mu must be held.
func (s *Store) chooseLocked(u *upload, want []CompletePart) ([]storedPart, error) {
	chosen := make([]storedPart, len(want))
	for i, w := range want {
		p, ok := u.parts[w.Number]
		if !ok {
			return nil, fmt.Errorf("%w: part %d was not uploaded", ErrInvalidPart, w.Number)
		}
		if !etagMatches(w.ETag, p.MD5) {
			return nil, fmt.Errorf("%w: part %d has ETag %s, not %s", ErrInvalidPart, w.Number, p.ETag, w.ETag)
		}
		chosen[i] = p
	}
	for _, p := range chosen[:len(chosen)-1] {
		if p.Size < s.minPart {
			return nil, fmt.Errorf("%w: part %d has %d bytes, minimum %d", ErrEntityTooSmall, p.Number, p.Size, s.minPart)
		}
	}
	return chosen, nil
}

// etagMatches reports whether a client's ETag names the MD5 sum.
func etagMatches(etag string, sum objstore.MD5) bool {
	etag = strings.TrimSpace(etag)
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		etag = etag[1 : len(etag)-1]
	}
	return strings.EqualFold(etag, sum.String())
}

// multipartETag is S3's ETag of an object made of parts.
func multipartETag(parts []Part) string {
	h := md5.New()
	for _, p := range parts {
		h.Write(p.MD5[:]) // never fails
	}
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(parts))
}

var _ io.ReadCloser = (*reader)(nil)

// reader streams the parts of an Assembly, opening one file at a time. It
// holds a pin on its upload until Close. Like an *os.File, it is for one
// goroutine at a time.
type reader struct {
	s     *Store
	u     *upload
	parts []storedPart // the parts not yet finished, the current one first

	f    *os.File // the current part, or nil
	left int64    // bytes of the current part still to read

	closed bool
}

// Read reads the body: the parts in order. A part file shorter or longer
// than its recorded size fails with an error wrapping objstore.ErrChecksum.
func (r *reader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, fmt.Errorf("multipart: read: %w", os.ErrClosed)
	}
	for {
		if r.f == nil {
			if len(r.parts) == 0 {
				return 0, io.EOF
			}
			if err := r.open(); err != nil {
				return 0, err
			}
		}
		if r.left == 0 {
			err := r.f.Close()
			r.f, r.parts = nil, r.parts[1:]
			if err != nil {
				return 0, fmt.Errorf("multipart: read: %w", err)
			}
			continue
		}
		if int64(len(p)) > r.left {
			p = p[:r.left]
		}
		n, err := r.f.Read(p)
		r.left -= int64(n)
		if err == io.EOF {
			if r.left > 0 {
				return n, r.sizeError()
			}
			err = nil // the next part follows
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
}

// open opens the file of the first part in r.parts and checks its size.
func (r *reader) open() error {
	p := r.parts[0]
	r.u.mu.RLock()
	f, err := os.Open(filepath.Join(r.u.dir, p.name()))
	r.u.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("multipart: read part %d of %s: %w", p.Number, r.u.info.ID, err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() != p.Size {
		err = r.sizeError()
	}
	if err != nil {
		_ = f.Close() // read-only; err is the one to report
		return err
	}
	r.f, r.left = f, p.Size
	return nil
}

// sizeError reports that the current part's file does not have its size.
func (r *reader) sizeError() error {
	p := r.parts[0]
	return fmt.Errorf("multipart: read part %d of %s: file is not %d bytes: %w", p.Number, r.u.info.ID, p.Size, objstore.ErrChecksum)
}

// Close closes the open part file and releases the pin on the upload,
// removing the files whose removal waited for it. Closing twice is not an
// error.
func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	if r.f != nil {
		err = r.f.Close()
		r.f = nil
	}
	r.s.unpin(r.u)
	return err
}

// unpin releases one pin on u. The last one removes the superseded part
// files and, if u was removed, its directory.
func (s *Store) unpin(u *upload) {
	u.mu.Lock()
	u.pins--
	if u.pins > 0 {
		u.mu.Unlock()
		return
	}
	dir, deferred, removed := u.dir, u.deferred, u.removed
	u.deferred = nil
	u.mu.Unlock()
	if removed {
		s.purge(u)
		return
	}
	for _, p := range deferred {
		s.removeFile(u, filepath.Join(dir, p.name()), p.Size)
	}
}
