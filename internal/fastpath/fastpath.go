// Package fastpath serves the hottest requests of an HTTP API, plain GETs
// of bodies held in memory, straight from the connection, and hands every
// other connection to net/http.
//
// Why: for a 4 KiB body net/http's per-request work (a header map, a
// context, a background read per request, buffered writers that take two
// writes for a header and a 4 KiB body) costs more CPU than everything
// objstore does, and on a small machine a bare net/http server answers
// about 0.65× the requests nginx does. A connection served here costs a
// parse of the request head and one write per request.
//
// What is served here is narrow on purpose. The Server parses only
// HTTP/1.1 GETs and HEADs in origin form whose path needs no unescaping,
// with exactly one valid Host, no body, no Range, no preconditions, no
// Expect, no Upgrade, no Connection other than keep-alive, a head that
// fits in the read buffer and only valid header bytes; the API's Answerer
// then answers or declines. The first request that is anything else hands
// the connection to net/http with every byte read so far, and net/http
// owns it from then on: there is one HTTP implementation for everything
// but the hot path, and a request is never parsed by both.
//
// The fast path takes a handed-off connection back only at a true request
// boundary: when net/http waits for the next request and holds none of its
// bytes (see netConn). Timeouts are net/http's, read from the http.Server:
// a head must arrive within ReadHeaderTimeout of the connection's accept or
// of the first bytes after an idle wait, an idle wait lasts IdleTimeout,
// and a head that the fast path starts and net/http finishes keeps the
// deadline it started with.
package fastpath

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"sphere.software/objstore/internal/handoff"
)

// Answerer answers the requests an API serves on the fast path.
type Answerer interface {
	// Answer returns the answer to req, or false for net/http to answer
	// it. It must not keep req or anything it holds past the call.
	Answer(req *Request) (Answer, bool)
}

// Answer is an answer to write: Head is the status line and the header
// lines, without Date and X-Request-Id (the Server adds them, the latter
// from Request.ID) and without the empty line that ends them; Body is left
// out for a HEAD.
type Answer struct {
	Head []byte
	Body []byte
}

// timeouts are the http.Server's, as net/http applies them.
type timeouts struct {
	idle, header, write time.Duration
}

func timeoutsOf(srv *http.Server) timeouts {
	t := timeouts{idle: srv.IdleTimeout, header: srv.ReadHeaderTimeout, write: srv.WriteTimeout}
	if t.idle <= 0 {
		t.idle = srv.ReadTimeout
	}
	if t.header <= 0 {
		t.header = srv.ReadTimeout
	}
	return t
}

// Server puts the fast path in front of an http.Server: it accepts the
// connections, answers the fast requests and hands the rest to the
// http.Server. Serve it with Serve (or give Listener to a server that
// calls srv.Serve itself) and stop it with Shutdown.
type Server struct {
	// OnAnswer, if set before Serve, is called after each answer written
	// here (for the access log), with the time its request was parsed; req
	// is valid during the call only.
	OnAnswer func(remote net.Addr, req *Request, a Answer, start time.Time)

	srv     *http.Server
	api     Answerer
	ln      net.Listener
	handoff *handoff.Listener // the connections for net/http
	done    chan struct{}
	t       timeouts
	// newConnGrace is how long after its accept a connection that has
	// sent nothing yet may still start a request once Shutdown began.
	newConnGrace time.Duration

	closeOnce sync.Once
	mu        sync.Mutex
	conns     map[*conn]struct{}
	wg        sync.WaitGroup // connections being served here

	date   atomic.Pointer[dateLine]
	served atomic.Uint64
}

// readBuffer is the read buffer of a connection served here: a request
// head that does not fit is handed to net/http, which has its own limit.
const readBuffer = 4 << 10

// New puts api's fast path in front of srv on ln. It owns srv.ConnState:
// a hook set before New still runs, after the fast path's. The timeouts
// are srv's when New is called. Nothing is accepted until Serve (or a
// server given Listener) runs.
func New(srv *http.Server, ln net.Listener, api Answerer) *Server {
	s := &Server{
		srv: srv, api: api, ln: ln, t: timeoutsOf(srv),
		handoff: handoff.NewListener(ln.Addr()),
		done:    make(chan struct{}),
		conns:   make(map[*conn]struct{}),

		newConnGrace: newConnGrace,
	}
	hook := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		s.connState(c, st)
		if hook != nil {
			hook(c, st)
		}
	}
	return s
}

// Serve accepts connections and serves them until Shutdown; it returns
// what srv.Serve returns (http.ErrServerClosed after Shutdown).
func (s *Server) Serve() error { return s.srv.Serve(s.Listener()) }

// Listener returns the listener to give srv.Serve, for code that calls it
// itself (httptest): the connections net/http serves come out of its
// Accept; closing it stops the fast path from accepting. Call it once.
func (s *Server) Listener() net.Listener {
	go s.acceptLoop()
	return listener{s}
}

// Shutdown shuts srv down, then waits for the connections served here to
// finish their answers, or for ctx to end, when it closes them.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	s.close()
	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return err
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			_ = c.nc.Close()
		}
		s.mu.Unlock()
		<-finished
		return errors.Join(err, ctx.Err())
	}
}

// Served is the number of answers written here.
func (s *Server) Served() uint64 { return s.served.Load() }

// listener is the Server as srv.Serve's listener.
type listener struct{ s *Server }

func (l listener) Accept() (net.Conn, error) { return l.s.handoff.Accept() }
func (l listener) Addr() net.Addr            { return l.s.ln.Addr() }
func (l listener) Close() error              { return l.s.close() }

// close stops accepting and closes the connections that wait for a
// request, and ends the wait of those that have sent nothing yet at their
// drain deadline. A connection busy with an answer closes when it is
// written.
func (s *Server) close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		_ = s.handoff.Close() // never fails
		err = s.ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			switch {
			case c.idle.Load():
				_ = c.nc.Close()
			case c.fresh.Load():
				_ = c.nc.SetReadDeadline(c.drainBy)
			}
		}
		s.mu.Unlock()
	})
	return err
}

// newConnGrace is the default of Server.newConnGrace: net/http's, which
// counts a connection that has not read its first request head idle
// (closes it in Shutdown) once it is 5 s old.
const newConnGrace = 5 * time.Second

func (s *Server) acceptLoop() {
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of file descriptors and the like: back off, as
				// net/http does, rather than spin.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			// srv.Serve returns the error, as it would without us.
			s.handoff.CloseWithError(err)
			return
		}
		delay = 0
		c := &conn{nc: nc, r: bufio.NewReaderSize(nc, readBuffer)}
		// net/http's header deadline starts at the accept.
		c.headDeadline = deadline(s.t.header)
		c.drainBy = time.Now().Add(s.newConnGrace)
		if !c.headDeadline.IsZero() && c.headDeadline.Before(c.drainBy) {
			c.drainBy = c.headDeadline
		}
		if !s.track(c) {
			_ = nc.Close()
			continue
		}
		go s.serve(c)
	}
}

// track registers c, unless s is closed.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		return false
	default:
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// conn is one connection served here.
type conn struct {
	nc  net.Conn
	r   *bufio.Reader
	out []byte
	req Request
	// headDeadline is the read deadline of the request head being read:
	// a request that the fast path declines keeps it under net/http.
	headDeadline time.Time
	idle         atomic.Bool // waiting for a request: close may close it
	// fresh is set while the connection waits for its first bytes; once
	// closing, that wait ends at drainBy, set at the accept.
	fresh   atomic.Bool
	drainBy time.Time
	// writing is held while an answer is written, so that net/http, which
	// sees the connection idle meanwhile, closes it only after the answer.
	writing sync.Mutex
}

// serve answers fast requests on c, the first of which is the
// connection's first, until a request needs net/http, the client closes,
// or s closes.
func (s *Server) serve(c *conn) {
	defer s.untrack(c)
	if err := s.serveFast(c, true); err != nil {
		_ = c.nc.Close()
		return
	}
	s.handOff(c)
}

// serveFast answers fast requests on c and returns once c holds a request
// for net/http, or the error that ends the connection (net.ErrClosed once
// s closes). first says that c has served no request yet, so its wait is
// awaitFirst's rather than the idle wait between requests.
func (s *Server) serveFast(c *conn, first bool) error {
	for {
		var err error
		if first {
			err = s.awaitFirst(c)
		} else {
			err = s.awaitRequest(c)
		}
		if err != nil {
			return err
		}
		first = false
		head, err := s.readHead(c)
		if err != nil {
			return err
		}
		if head == nil || !s.answer(c, head) {
			return nil
		}
	}
}

// awaitFirst waits, under the header deadline from the accept (as in
// net/http), for a connection's first bytes. A client may dial a
// connection and park it unused in its pool (Go's Transport does when
// another connection frees up first): once Shutdown began, such a wait
// ends at the connection's drainBy, as net/http gives its new connections
// newConnGrace to start a request and then closes them, rather than hold
// the stop for the whole shutdown timeout.
func (s *Server) awaitFirst(c *conn) error {
	c.fresh.Store(true)
	defer c.fresh.Store(false)
	if err := c.nc.SetReadDeadline(c.headDeadline); err != nil {
		return err
	}
	// After the deadline above: close, which sets drainBy on fresh
	// connections, may have missed c before it was fresh.
	select {
	case <-s.done:
		if err := c.nc.SetReadDeadline(c.drainBy); err != nil {
			return err
		}
	default:
	}
	_, err := c.r.Peek(1)
	return err
}

// awaitRequest waits, up to the idle timeout, for the first bytes of the
// next request, as net/http does between requests (it peeks 4 bytes), and
// then starts the header deadline. Meanwhile c is idle: close closes it.
func (s *Server) awaitRequest(c *conn) error {
	c.idle.Store(true)
	select {
	case <-s.done: // closed: no next request; close may have missed c while it was busy
		return net.ErrClosed
	default:
	}
	if c.r.Buffered() < 4 {
		if err := c.nc.SetReadDeadline(deadline(s.t.idle)); err != nil {
			return err
		}
		if _, err := c.r.Peek(4); err != nil {
			return err
		}
	}
	c.idle.Store(false)
	c.headDeadline = deadline(s.t.header)
	return nil
}

// readHead returns the next request's head, without consuming it; nil
// means one that the fast path leaves to net/http: longer than the buffer,
// cut short by the end of the stream, or not ended by a CRLF CRLF.
func (s *Server) readHead(c *conn) ([]byte, error) {
	if err := c.nc.SetReadDeadline(c.headDeadline); err != nil {
		return nil, err
	}
	for {
		buf, _ := c.r.Peek(c.r.Buffered())
		if n := headLen(buf); n > 0 {
			return buf[:n], nil
		} else if n < 0 {
			return nil, nil
		}
		if c.r.Buffered() == c.r.Size() {
			return nil, nil
		}
		if _, err := c.r.Peek(c.r.Buffered() + 1); err != nil {
			if isEOF(err) {
				return nil, nil // a partial head then EOF: net/http answers it
			}
			return nil, err
		}
	}
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// deadline is d from now, or none for d <= 0, as net/http sets its
// deadlines.
func deadline(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// answer serves the request whose head is head if the API answers it, and
// consumes it; it reports false, consuming nothing, when net/http must
// serve it.
func (s *Server) answer(c *conn, head []byte) bool {
	if !c.req.parse(head) {
		return false
	}
	var start time.Time
	if s.OnAnswer != nil {
		start = time.Now()
	}
	a, ok := s.api.Answer(&c.req)
	if !ok {
		return false
	}
	c.out = append(c.out[:0], a.Head...)
	c.out = append(c.out, "X-Request-Id: "...)
	c.out = append(c.out, c.req.ID()...)
	c.out = append(c.out, "\r\n"...)
	c.out = append(c.out, s.dateLine()...)
	c.out = append(c.out, "\r\n"...)
	if _, err := c.r.Discard(len(head)); err != nil {
		return false
	}
	s.served.Add(1) // before the write, so a client that has the answer sees it counted
	c.writing.Lock()
	defer c.writing.Unlock()
	if s.t.write > 0 {
		_ = c.nc.SetWriteDeadline(deadline(s.t.write))
	}
	var err error
	switch {
	case c.req.head:
		_, err = c.nc.Write(c.out)
	case len(a.Body) <= 16<<10:
		c.out = append(c.out, a.Body...)
		_, err = c.nc.Write(c.out)
	default:
		bufs := net.Buffers{c.out, a.Body}
		_, err = bufs.WriteTo(c.nc)
	}
	if err != nil {
		// The client left; the request was consumed, so nobody gets
		// the connection.
		_ = c.nc.Close()
	}
	if s.OnAnswer != nil {
		s.OnAnswer(c.nc.RemoteAddr(), &c.req, a, start)
	}
	return true
}

// handOff gives c, and what it has read, to net/http, or closes it if s
// closed first.
func (s *Server) handOff(c *conn) {
	n := &netConn{Conn: handoff.NewConn(c.nc, c.r), s: s, c: c, aborted: make(chan struct{}, 1)}
	n.keepHeadDeadline()
	s.handoff.Deliver(n, s.done)
}

// dateLine is a Date header line, valid for the second it was made in.
type dateLine struct {
	unix int64
	line []byte
}

// dateLine returns "Date: <now>\r\n", as net/http sends on every answer.
func (s *Server) dateLine() []byte {
	now := time.Now()
	if d := s.date.Load(); d != nil && d.unix == now.Unix() {
		return d.line
	}
	d := &dateLine{unix: now.Unix()}
	d.line = append([]byte("Date: "), now.UTC().AppendFormat(nil, http.TimeFormat)...)
	d.line = append(d.line, "\r\n"...)
	s.date.Store(d)
	return d.line
}
