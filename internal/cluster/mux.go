package cluster

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// peekTimeout bounds the wait for a new connection's first byte. Each
// connection waits in its own goroutine, so a silent client holds only that
// goroutine, and only this long.
const peekTimeout = 10 * time.Second

// acceptBackoffMax caps the pause after an accept error (EMFILE and the like).
const acceptBackoffMax = time.Second

// isHTTP reports whether a connection's first byte starts an HTTP request.
//
// The split is safe because the two protocols cannot share a first byte:
// HTTP/1.x requests start with a method token, in upper-case ASCII letters
// ('A'..'Z', 65..90). A memberlist stream starts with the label header's
// magic byte 244 (hasLabelMsg) whenever a label is set, and objstore always
// sets one ("objstore/" + tag); a stream without a label starts with a
// message type, a small number (pingMsg = 0 … errMsg = 13, encryptMsg = 10
// for encrypted streams). Anything that is not a letter goes to memberlist,
// which drops what it cannot read.
func isHTTP(b byte) bool { return 'A' <= b && b <= 'Z' }

// acceptLoop accepts TCP connections until shutdown and classifies each in
// its own goroutine.
func (t *transport) acceptLoop() {
	defer t.wg.Done()
	var delay time.Duration
	for {
		conn, err := t.tcp.Accept()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), acceptBackoffMax)
			t.log.Warn("cluster: accept private connection", "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
			case <-t.ctx.Done():
				return
			}
			continue
		}
		delay = 0
		t.wg.Add(1)
		go t.classify(conn)
	}
}

// classify reads a connection's first byte and hands the connection, that
// byte included, to the HTTP server or to memberlist. The connection is
// tracked while it waits, so that shutdown need not wait peekTimeout, and
// stays tracked as a memberlist stream; an HTTP connection is the HTTP
// server's to close.
func (t *transport) classify(conn net.Conn) {
	defer t.wg.Done()
	tc, err := t.track(conn)
	if err != nil {
		return
	}
	var first [1]byte
	_ = conn.SetReadDeadline(time.Now().Add(peekTimeout)) // a failure shows in the read
	if _, err := io.ReadFull(conn, first[:]); err != nil {
		_ = tc.Close() // nothing was read: nothing to report
		return
	}
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		_ = tc.Close() // the connection is already broken
		return
	}
	if isHTTP(first[0]) {
		t.untrack(tc)
		t.http.deliver(&peekedConn{Conn: conn, first: first[0], pending: true}, t.ctx.Done())
		return
	}
	select {
	case t.streamCh <- &peekedConn{Conn: tc, first: first[0], pending: true}:
	case <-t.ctx.Done():
		_ = tc.Close() // shutting down: memberlist will not read it
	}
}

// peekedConn is a connection whose first byte was read by classify; Read
// returns that byte first. ReadFrom and CloseWrite pass through to the TCP
// connection, so that the HTTP server keeps sendfile and its graceful
// close. WriteTo is deliberately not promoted: it would skip the byte.
type peekedConn struct {
	net.Conn
	first   byte
	pending bool // first not yet returned; Read is not called concurrently
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if !c.pending || len(p) == 0 {
		return c.Conn.Read(p)
	}
	p[0] = c.first
	c.pending = false
	return 1, nil
}

// ReadFrom lets io.Copy to the connection use the TCP connection's sendfile.
func (c *peekedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// CloseWrite half-closes the TCP connection, as http.Server does before
// closing a connection it rejects.
func (c *peekedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// connListener is the net.Listener the HTTP server serves: its connections
// are the ones classify recognised as HTTP.
type connListener struct {
	addr   net.Addr
	ch     chan net.Conn // unbuffered: a delivered conn belongs to the server
	closed chan struct{}
	once   sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
}

// deliver hands conn to Accept, or closes it if the listener or the
// transport (done) closes first.
func (l *connListener) deliver(conn net.Conn, done <-chan struct{}) {
	select {
	case l.ch <- conn:
	case <-l.closed:
		_ = conn.Close() // no server to take it
	case <-done:
		_ = conn.Close() // no server to take it
	}
}

// Accept implements net.Listener.
func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener; the TCP listener stays open for memberlist.
func (l *connListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr implements net.Listener.
func (l *connListener) Addr() net.Addr { return l.addr }

// trackedConn is a connection that shutdown closes if nobody has yet: a
// memberlist stream, inbound or outbound, or a connection being classified.
type trackedConn struct {
	net.Conn
	t *transport
}

// track registers conn, or closes it and fails if the transport is shut down.
func (t *transport) track(conn net.Conn) (*trackedConn, error) {
	tc := &trackedConn{Conn: conn, t: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx.Err() != nil {
		_ = conn.Close() // the transport is gone; the caller gets the error
		return nil, net.ErrClosed
	}
	t.conns[tc] = struct{}{}
	return tc, nil
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.t.untrack(c)
	return err
}

// untrack forgets c without closing it.
func (t *transport) untrack(c *trackedConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c)
}

// closeTracked closes every tracked connection; track refuses new ones
// because the context is cancelled first.
func (t *transport) closeTracked() {
	t.mu.Lock()
	conns := make([]*trackedConn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close() // best effort: the peer sees the stream end
	}
}
