// Package httpbody answers HTTP requests for object bodies with
// http.ServeContent (ranges, conditional requests, HEAD) while the bytes go
// through the body's own verifying copy.
//
// A body on the local disk is checked block by block as it is read (see
// internal/disk.Body): sendfile would hand the client bytes nobody checked.
// http.ServeContent copies with io.CopyN, which hides the body behind an
// io.LimitedReader and ends, through net/http, in a 32 KiB read loop: a
// second copy per byte. Serve gives ServeContent a ResponseWriter whose
// ReadFrom spots that LimitedReader and lets the body write its verified
// chunks straight to the connection instead (Body.WriteN).
package httpbody

import (
	"io"
	"net/http"
	"time"
)

// Body is a body that copies itself out through its own buffer, checking
// what it writes.
type Body interface {
	io.ReadSeeker
	// WriteN writes n bytes from the current offset into w.
	WriteN(w io.Writer, n int64) (int64, error)
}

// Serve is http.ServeContent of body, with name "" (Content-Type is the
// caller's to set). When body is a Body its bytes go out through WriteN.
// It reports nothing: the caller checks its body for an error that cut the
// response, and aborts the response if so.
func Serve(w http.ResponseWriter, r *http.Request, modtime time.Time, body io.ReadSeeker) {
	if b, ok := body.(Body); ok {
		w = &writer{ResponseWriter: w, body: b}
	}
	http.ServeContent(w, r, "", modtime, body)
}

// writer is a ResponseWriter whose ReadFrom copies body with WriteN.
type writer struct {
	http.ResponseWriter
	body Body
}

// ReadFrom writes src, which io.CopyN makes an io.LimitedReader of the
// body, with the body's WriteN; any other src is copied as net/http would.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if lr, ok := src.(*io.LimitedReader); ok && lr.R == io.Reader(w.body) {
		n, err := w.body.WriteN(w.ResponseWriter, lr.N)
		lr.N -= n
		return n, err
	}
	return io.Copy(w.ResponseWriter, src)
}

// Unwrap gives http.ResponseController the ResponseWriter beneath.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
