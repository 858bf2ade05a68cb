// Package handoff passes accepted connections, some of whose bytes were
// already read to decide who serves them, to a server that reads them from
// the start: a Conn replays those bytes, and a Listener hands connections
// to the server's Serve loop one by one.
package handoff

import (
	"io"
	"net"
	"sync"
)

// Conn is a connection whose reads come from r: the bytes read from the
// connection before, then the connection itself. ReadFrom and CloseWrite
// pass through to the connection, so that an HTTP server keeps sendfile
// and its graceful close. WriteTo is deliberately not promoted: it would
// skip the bytes in r.
type Conn struct {
	net.Conn
	r io.Reader
}

// NewConn returns conn reading from r, which must yield the bytes already
// read from conn and then conn's own (a bufio.Reader over conn, say).
func NewConn(conn net.Conn, r io.Reader) *Conn { return &Conn{Conn: conn, r: r} }

func (c *Conn) Read(p []byte) (int, error) { return c.r.Read(p) }

// ReadFrom lets io.Copy to the connection use the TCP connection's sendfile.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// CloseWrite half-closes the TCP connection, as http.Server does before
// closing a connection it rejects.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Listener is a net.Listener whose connections come from Deliver, for a
// server's Serve loop. Closing it does not close whatever accepts the
// connections in the first place.
type Listener struct {
	addr   net.Addr
	ch     chan net.Conn // unbuffered: a delivered conn belongs to the server
	closed chan struct{}
	once   sync.Once
	err    error // what Accept returns once closed
}

// NewListener returns a Listener that reports addr as its address.
func NewListener(addr net.Addr) *Listener {
	return &Listener{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
}

// Deliver hands conn to Accept and reports true, or closes conn and
// reports false if the listener closes, or done does, first.
func (l *Listener) Deliver(conn net.Conn, done <-chan struct{}) bool {
	select {
	case l.ch <- conn:
		return true
	case <-l.closed:
	case <-done:
	}
	_ = conn.Close() // no server to take it
	return false
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, l.err
	}
}

// Close implements net.Listener: Accept returns net.ErrClosed.
func (l *Listener) Close() error {
	l.CloseWithError(net.ErrClosed)
	return nil
}

// CloseWithError closes l and makes Accept return err: the error that
// ended whatever accepted the connections, for the server to see. Only
// the first close counts.
func (l *Listener) CloseWithError(err error) {
	l.once.Do(func() {
		l.err = err
		close(l.closed)
	})
}

// Addr implements net.Listener.
func (l *Listener) Addr() net.Addr { return l.addr }
