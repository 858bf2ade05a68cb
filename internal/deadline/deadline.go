// Package deadline bounds the waits of outgoing HTTP requests, to the
// origin and to peers: the connect, the first byte of the answer, and the
// silence between bytes in either direction once a transfer is under way.
// A server that stops answering (frozen, or a dead link that drops packets)
// then fails a request after a bound instead of holding it forever.
//
// The progress bound is kept by a net.Conn wrapper that moves the
// connection's deadlines forward on every Read and Write. Progress in one
// direction extends the other: net/http keeps a Read pending on every
// connection, also while a long upload is being written, and that Read
// must not expire while the upload moves. An idle pooled connection has
// that Read pending too, so it lives at most one progress bound; the
// transport's idle timeout is set below it so that the pool drops it first.
package deadline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Config holds the bounds. A zero field takes the default that
// DefaultConfig or the caller's own defaults give it (see WithDefaults).
type Config struct {
	// Connect bounds the TCP connect (and DNS).
	Connect time.Duration
	// FirstByte bounds the wait for the answer's headers once the request
	// is sent.
	FirstByte time.Duration
	// Progress bounds the silence between bytes read or written.
	Progress time.Duration
}

// WithDefaults returns c with each zero field taken from def.
func (c Config) WithDefaults(def Config) Config {
	if c.Connect == 0 {
		c.Connect = def.Connect
	}
	if c.FirstByte == 0 {
		c.FirstByte = def.FirstByte
	}
	if c.Progress == 0 {
		c.Progress = def.Progress
	}
	return c
}

// Validate reports a negative bound.
func (c Config) Validate() error {
	if c.Connect < 0 || c.FirstByte < 0 || c.Progress < 0 {
		return fmt.Errorf("deadline: negative bound in %+v", c)
	}
	return nil
}

// Apply makes tr dial with d under c's bounds: d's Timeout becomes
// c.Connect, connections are wrapped to keep the progress bound,
// ResponseHeaderTimeout becomes c.FirstByte, and IdleConnTimeout is kept
// below c.Progress (see the package doc). A zero bound is not enforced.
func (c Config) Apply(tr *http.Transport, d *net.Dialer) {
	d.Timeout = c.Connect
	tr.ResponseHeaderTimeout = c.FirstByte
	if c.Progress > 0 && (tr.IdleConnTimeout == 0 || tr.IdleConnTimeout > c.Progress/2) {
		tr.IdleConnTimeout = c.Progress / 2
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return Wrap(conn, c.Progress, c.FirstByte), nil
	}
}

// StallError is a Read or Write that saw no progress for Wait. It is a
// net.Error whose Timeout is true, and wraps os.ErrDeadlineExceeded.
type StallError struct {
	Op   string // "read" or "write"
	Wait time.Duration
	Err  error
}

func (e *StallError) Error() string {
	return fmt.Sprintf("%s: no progress for %v: %v", e.Op, e.Wait, e.Err)
}
func (e *StallError) Unwrap() error   { return e.Err }
func (e *StallError) Timeout() bool   { return true }
func (e *StallError) Temporary() bool { return true }

// Conn is a net.Conn whose Read and Write fail with a StallError once
// neither has made progress for the progress bound.
type Conn struct {
	net.Conn
	progress time.Duration
	// afterWrite is how long a Read may wait after the last Write: the
	// peer may take the first-byte bound to start answering a request.
	afterWrite time.Duration
	// slack is how much earlier than wanted a deadline may be left, so
	// that a stream of small reads does not move it on every call.
	slack time.Duration

	mu              sync.Mutex // guards the fields below, and orders the Set calls with them
	readDL, writeDL time.Time  // the deadlines set
	// awaiting is true from a Write until a Read gets bytes: the peer
	// has a request to answer, so a Read may wait afterWrite.
	awaiting bool
	// readWait is the wait of the read deadline last set, for StallError.
	readWait time.Duration
}

// Wrap returns conn with the progress bound kept (see Conn). A Read
// pending after a Write may wait max(progress, firstByte). A zero progress
// returns conn itself.
func Wrap(conn net.Conn, progress, firstByte time.Duration) net.Conn {
	if progress <= 0 {
		return conn
	}
	return &Conn{Conn: conn, progress: progress, afterWrite: max(progress, firstByte), slack: progress / 16}
}

// Read reads with the read deadline at most progress from now, and moves
// the write deadline on when bytes came.
func (c *Conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	c.extendRead(c.readWaitNow())
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > 0 {
		c.awaiting = false
		c.extend(&c.writeDL, c.progress, c.Conn.SetWriteDeadline)
	}
	return n, c.stalled("read", c.readWait, err)
}

// Write writes with the write deadline at most progress from now, and
// moves the read deadline on, also that of a Read already pending: past
// the write deadline while it blocks, to afterWrite once it is done.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.extend(&c.writeDL, c.progress, c.Conn.SetWriteDeadline)
	// While the Write blocks, the pending Read must not expire first: it
	// would close the connection under the Write, and the caller would
	// see "use of closed network connection" (which the AWS SDK retries)
	// instead of this Write's StallError.
	c.extendRead(c.progress + c.afterWrite)
	c.mu.Unlock()
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.mu.Lock()
		c.awaiting = true
		c.extendRead(c.afterWrite)
		c.mu.Unlock()
	}
	return n, c.stalled("write", c.progress, err)
}

// extendRead moves the read deadline to now+wait. c.mu is held.
func (c *Conn) extendRead(wait time.Duration) {
	c.extend(&c.readDL, wait, c.Conn.SetReadDeadline)
	c.readWait = wait
}

// readWaitNow is how long a Read starting now may wait. c.mu is held.
func (c *Conn) readWaitNow() time.Duration {
	if c.awaiting {
		return c.afterWrite
	}
	return c.progress
}

// extend sets the deadline held in dl to now+wait, unless it is already
// within slack of that. c.mu is held.
func (c *Conn) extend(dl *time.Time, wait time.Duration, set func(time.Time) error) {
	want := time.Now().Add(wait)
	if d := want.Sub(*dl); d >= 0 && d < c.slack {
		return
	}
	// An error means the connection is closed; the Read or Write that
	// follows reports it.
	_ = set(want)
	*dl = want
}

// stalled turns a deadline error into a StallError.
func (c *Conn) stalled(op string, wait time.Duration, err error) error {
	if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	return &StallError{Op: op, Wait: wait, Err: err}
}

// IsTimeout reports whether err is a request that timed out: a connect,
// first-byte or progress bound, or a context's deadline (net/http reports
// its first-byte bound as one, so the two cannot be told apart), but not
// a cancellation.
func IsTimeout(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
