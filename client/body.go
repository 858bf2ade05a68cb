package client

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// body is a request body that one or more tries send. A body that is an
// io.Seeker is sent again from where it started; any other body can be
// sent again only while none of it was read.
type body struct {
	src   io.Reader
	seek  io.Seeker // nil: not seekable
	start int64     // where src stood when the call began
	size  int64     // the declared length; -1 unknown (chunked)
	cur   *tryBody  // the current try's reader
	read  bool      // some try read from src
}

// newBody wraps src, of size bytes (-1 unknown).
func newBody(src io.Reader, size int64) *body {
	b := &body{src: src, size: size}
	if s, ok := src.(io.Seeker); ok {
		pos, err := s.Seek(0, io.SeekCurrent)
		if err == nil { // a pipe or a terminal is a Seeker that cannot seek
			b.seek, b.start = s, pos
		}
	}
	return b
}

// replayable reports whether the body can be sent once more. A nil body
// (no body) always can.
func (b *body) replayable() bool {
	if b == nil {
		return true
	}
	return b.seek != nil || !b.tried()
}

// tried reports whether a try read any of src.
func (b *body) tried() bool {
	if b.cur != nil && b.cur.consumed() {
		b.read = true
	}
	return b.read
}

// attempt returns the reader of a new try.
func (b *body) attempt() io.Reader {
	b.cur = &tryBody{src: b.src}
	return b.cur
}

// rewind ends the last try's reader and puts src back at its start. The
// transport may still be reading the last try's body in a goroutine of its
// own; ending it first waits for that read and fails later ones.
func (b *body) rewind() error {
	if b == nil || b.cur == nil {
		return nil
	}
	b.cur.end()
	if !b.tried() {
		return nil
	}
	if b.seek == nil {
		return errors.New("client: the body was sent in part and cannot be sent again; give an io.ReadSeeker to allow retries")
	}
	if _, err := b.seek.Seek(b.start, io.SeekStart); err != nil {
		return fmt.Errorf("client: rewind the body for a retry: %w", err)
	}
	return nil
}

// close ends the last try's reader: once a call returns, its caller may
// close src, and the transport must not read it any more.
func (b *body) close() {
	if b != nil && b.cur != nil {
		b.cur.end()
	}
}

// errTryEnded is what a try's body reads after the client gave up on it.
var errTryEnded = errors.New("client: this try of the request ended")

// tryBody is one try's view of a body.
type tryBody struct {
	mu    sync.Mutex // guards the fields below; held during a Read of src
	src   io.Reader
	n     int64
	ended bool
}

func (t *tryBody) Read(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return 0, errTryEnded
	}
	n, err := t.src.Read(p)
	t.n += int64(n)
	return n, err
}

func (t *tryBody) consumed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n > 0
}

func (t *tryBody) end() {
	t.mu.Lock()
	t.ended = true
	t.mu.Unlock()
}
