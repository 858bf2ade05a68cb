package fastpath

import (
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"sphere.software/objstore/internal/handoff"
)

// abortGrace is how long a 1-byte read that finds data waits for net/http
// to abort it (see netConn.readOne). Waiting costs nothing: with data there
// the client has not gone away, which is all the background read watches
// for, and net/http reads no next request before its handler returns and
// aborts the read. So the bound is only a guard against an abort that
// never comes; at 5 ms, a busy machine that ran net/http's abort late
// lost the next request's first byte and with it the fast path.
const abortGrace = time.Second

// netConn is a connection handed to net/http. It stays net/http's, but the
// fast path takes it back, to answer hot GETs until one it declines, at a
// true request boundary only: when net/http waits for the next request and
// holds none of its bytes. net/http reads through a bufio.Reader, and after
// a request it may hold the next one's first bytes there (a read of 4 KiB
// that crossed the boundary), or hold one byte taken by its background
// read (which watches for the client leaving while a handler runs). Those
// bytes are net/http's; a fast path reading after them from the connection
// would parse the middle of a request as a new one.
//
// What net/http does between requests (net/http server.go, conn.serve):
// it reports StateIdle, sets the idle read deadline, then peeks 4 bytes;
// when the peek finds fewer than 4 buffered it reads, into its buffer
// after the bytes it holds. So the rule is: the fast path takes the
// connection back on a read that comes right after StateIdle and the idle
// deadline (no other deadline between: with 4 or more bytes held net/http
// reads nothing before it sets the header deadline), and only if the read
// asks for net/http's whole buffer, as its first read on the connection
// did (with n bytes held, or a background byte, it asks for n fewer). Any
// other read is net/http's.
type netConn struct {
	*handoff.Conn
	s *Server
	c *conn
	// aborted holds a signal once net/http aborts its background read
	// (a read deadline in the past); emptied when a request starts.
	aborted chan struct{}

	mu sync.Mutex
	// bufSize is the length of net/http's first read: its buffer's size.
	bufSize int
	phase   idlePhase
	// clampHead: net/http's next read deadline is the header deadline of
	// a head the fast path started, which it keeps (see keepHeadDeadline).
	clampHead bool
}

// idlePhase is where net/http is in its wait between requests.
type idlePhase int

const (
	busy         idlePhase = iota // not between requests, or no longer sure
	idleReported                  // StateIdle seen; the idle deadline comes next
	idleArmed                     // the idle deadline set; a read now may be the peek
)

func (n *netConn) Read(p []byte) (int, error) {
	if n.takeBack(len(p)) {
		if err := n.s.serveFast(n.c, false); err != nil {
			return 0, err
		}
		n.keepHeadDeadline()
	}
	if len(p) == 1 {
		return n.readOne(p)
	}
	return n.Conn.Read(p)
}

// takeBack reports whether a read of size bytes is net/http's peek for the
// next request with nothing of it held (see netConn).
func (n *netConn) takeBack(size int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.bufSize == 0 {
		// net/http's first read fills its empty buffer (its read limit
		// for a head is at least 4 KiB more than its buffer).
		n.bufSize = size
	}
	ok := n.phase == idleArmed && size == n.bufSize
	n.phase = busy
	return ok
}

// keepHeadDeadline makes net/http's next read deadline, its header
// deadline for the head the fast path started, the one that head started
// with: a head is not given more time because it changed hands.
func (n *netConn) keepHeadDeadline() {
	n.mu.Lock()
	n.clampHead = true
	n.mu.Unlock()
}

// readOne serves a 1-byte read while net/http has a request: that is its
// background read (which watches for the client going away while a
// handler runs). net/http writes its answer before it aborts the
// background read, so a client that sends its next request at once would
// lose the request's first byte to it, and with it the chance of the fast
// path. So a 1-byte read that finds data waits a moment: if net/http aborts
// it, it takes nothing; if not (a request pipelined behind a slow handler),
// it reads the byte, and the next read for the buffer is 1 byte short, so
// the fast path leaves that request to net/http.
func (n *netConn) readOne(p []byte) (int, error) {
	if n.c.r.Buffered() == 0 {
		if _, err := n.c.r.Peek(1); err != nil {
			return 0, err // net/http knows the timeout of an abort
		}
	}
	t := time.NewTimer(abortGrace)
	defer t.Stop()
	select {
	case <-n.aborted:
		return 0, os.ErrDeadlineExceeded // a timeout, as an aborted read gets
	case <-t.C:
	}
	return n.Conn.Read(p)
}

// SetReadDeadline follows net/http's wait between requests, keeps a head's
// deadline across the hand-off, and notes net/http's aborts of its
// background read: it sets a deadline in the past for them and for
// nothing else.
func (n *netConn) SetReadDeadline(t time.Time) error {
	n.mu.Lock()
	switch n.phase {
	case idleReported:
		n.phase = idleArmed
	case idleArmed:
		n.phase = busy // the header deadline: net/http holds the peek's bytes
	}
	if n.clampHead {
		n.clampHead = false
		if hd := n.c.headDeadline; !hd.IsZero() && (t.IsZero() || t.After(hd)) {
			t = hd
		}
	}
	n.mu.Unlock()
	if !t.IsZero() && t.Before(time.Now()) {
		select {
		case n.aborted <- struct{}{}:
		default:
		}
	}
	return n.Conn.SetReadDeadline(t)
}

// Close waits for an answer the fast path is writing: net/http closes
// connections it sees idle, and it sees idle one the fast path took back.
func (n *netConn) Close() error {
	n.c.writing.Lock()
	defer n.c.writing.Unlock()
	return n.Conn.Close()
}

// connState is the http.Server's ConnState hook (New installs it).
func (s *Server) connState(c net.Conn, state http.ConnState) {
	n, ok := c.(*netConn)
	if !ok {
		return
	}
	// Between requests no read is aborted: a signal left is the last
	// request's, and must not cut a read of the next one.
	select {
	case <-n.aborted:
	default:
	}
	n.mu.Lock()
	if state == http.StateIdle {
		n.phase = idleReported
	} else {
		n.phase = busy
	}
	n.mu.Unlock()
}
