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
// but the hot path, and a request is never parsed by both. But whenever
// net/http waits for the connection's next request (its ConnState hook
// says so), the fast path reads first and answers what it can, so a
// connection that carried a PUT or a miss once still gets its hot GETs
// answered here (see netConn).
package fastpath

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
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
// lines, without Date (the Server adds it) and without the empty line that
// ends them; Body is left out for a HEAD.
type Answer struct {
	Head []byte
	Body []byte
}

// Config configures a Server.
type Config struct {
	// IdleTimeout closes a connection that sends no request for this long.
	IdleTimeout time.Duration
	// ReadHeaderTimeout bounds the time to read a request head.
	ReadHeaderTimeout time.Duration
	// OnError, if set, receives accept errors that end the Server.
	OnError func(error)
	// OnAnswer, if set, is called after each answer written here (for the
	// access log), with the time its request was parsed; req is valid
	// during the call only.
	OnAnswer func(remote net.Addr, req *Request, a Answer, start time.Time)
}

// Server is a net.Listener for the http.Server that serves the handed-off
// connections: give it to Serve. Closing it (http.Server.Shutdown does)
// stops accepting and closes idle connections; Shutdown waits for the
// connections busy here to finish their answer.
type Server struct {
	api     Answerer
	ln      net.Listener
	handoff *handoff.Listener // the connections for net/http
	done    chan struct{}
	cfg     Config

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

// New accepts connections on ln and serves api's fast requests on them;
// the other connections come out of its Accept.
func New(api Answerer, ln net.Listener, cfg Config) *Server {
	s := &Server{
		api: api, ln: ln, cfg: cfg,
		handoff: handoff.NewListener(ln.Addr()),
		done:    make(chan struct{}),
		conns:   make(map[*conn]struct{}),
	}
	go s.acceptLoop()
	return s
}

// Served is the number of answers written here.
func (s *Server) Served() uint64 { return s.served.Load() }

// Accept returns the next connection for net/http.
func (s *Server) Accept() (net.Conn, error) { return s.handoff.Accept() }

// Addr is the listener's address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting and closes the connections that wait for a request.
// A connection busy with an answer closes when the answer is written.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		_ = s.handoff.Close() // never fails
		err = s.ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			if c.idle.Load() {
				_ = c.nc.Close()
			}
		}
		s.mu.Unlock()
	})
	return err
}

// Shutdown closes s and waits for the connections served here to finish
// their answers, or for ctx to end, when it closes them.
func (s *Server) Shutdown(ctx context.Context) error {
	_ = s.Close()
	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			_ = c.nc.Close()
		}
		s.mu.Unlock()
		<-finished
		return ctx.Err()
	}
}

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
			if !errors.Is(err, net.ErrClosed) && s.cfg.OnError != nil {
				s.cfg.OnError(err)
			}
			_ = s.Close()
			return
		}
		delay = 0
		c := &conn{nc: nc, r: bufio.NewReaderSize(nc, readBuffer)}
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
	nc   net.Conn
	r    *bufio.Reader
	out  []byte
	req  Request
	idle atomic.Bool // waiting for a request: Close may close it
}

// serve answers fast requests on c until a request needs net/http, the
// client closes, or s closes.
func (s *Server) serve(c *conn) {
	defer s.untrack(c)
	if err := s.serveFast(c); err != nil {
		_ = c.nc.Close()
		return
	}
	s.handOff(c)
}

// readHead waits for the next request and returns its head, without
// consuming it; nil means one that does not fit in the buffer.
func (s *Server) readHead(c *conn) ([]byte, error) {
	c.idle.Store(true)
	select {
	case <-s.done: // closed: no next request; Close may have missed c while it was busy
		return nil, net.ErrClosed
	default:
	}
	if c.r.Buffered() == 0 {
		if err := setReadDeadline(c.nc, s.cfg.IdleTimeout); err != nil {
			return nil, err
		}
		if _, err := c.r.Peek(1); err != nil {
			return nil, err
		}
	}
	c.idle.Store(false)
	if err := setReadDeadline(c.nc, s.cfg.ReadHeaderTimeout); err != nil {
		return nil, err
	}
	for {
		buf, _ := c.r.Peek(c.r.Buffered())
		if i := bytes.Index(buf, crlfcrlf); i >= 0 {
			return buf[:i+len(crlfcrlf)], nil
		}
		if c.r.Buffered() == c.r.Size() {
			return nil, nil
		}
		if _, err := c.r.Peek(c.r.Buffered() + 1); err != nil {
			if !errors.Is(err, io.EOF) {
				return nil, err
			}
			// A partial head then EOF: net/http answers it.
			return nil, nil
		}
	}
}

func setReadDeadline(c net.Conn, d time.Duration) error {
	if d <= 0 {
		return c.SetReadDeadline(time.Time{})
	}
	return c.SetReadDeadline(time.Now().Add(d))
}

var crlfcrlf = []byte("\r\n\r\n")

// answer serves the request whose head is head if the API answers it, and
// consumes it; it reports false, consuming nothing, when net/http must
// serve it.
func (s *Server) answer(c *conn, head []byte) bool {
	if !c.req.parse(head) {
		return false
	}
	var start time.Time
	if s.cfg.OnAnswer != nil {
		start = time.Now()
	}
	a, ok := s.api.Answer(&c.req)
	if !ok {
		return false
	}
	c.out = append(c.out[:0], a.Head...)
	c.out = append(c.out, s.dateLine()...)
	c.out = append(c.out, "\r\n"...)
	if _, err := c.r.Discard(len(head)); err != nil {
		return false
	}
	s.served.Add(1) // before the write, so a client that has the answer sees it counted
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
	if s.cfg.OnAnswer != nil {
		s.cfg.OnAnswer(c.nc.RemoteAddr(), &c.req, a, start)
	}
	return true
}

// handOff gives c, and what it has read, to net/http, or closes it if s
// closed first.
func (s *Server) handOff(c *conn) {
	_ = c.nc.SetReadDeadline(time.Time{}) // net/http sets its own
	s.handoff.Deliver(&netConn{Conn: handoff.NewConn(c.nc, c.r), s: s, c: c, aborted: make(chan struct{}, 1)}, s.done)
}

// abortGrace is how long a 1-byte read that finds data waits for net/http
// to abort it (see netConn.readOne).
const abortGrace = 5 * time.Millisecond

// netConn is a connection handed to net/http. It stays net/http's for good,
// but whenever net/http waits for its next request (ConnState tells when),
// the fast path reads first: it answers the fast requests that come, and
// lets net/http read the first one it declines. So a connection that once
// carried a PUT or a miss still gets its hot GETs answered here.
type netConn struct {
	*handoff.Conn
	s    *Server
	c    *conn
	idle atomic.Bool // net/http waits for the next request
	// aborted holds a signal once net/http aborts its background read
	// (a read deadline in the past); emptied when a request starts.
	aborted chan struct{}
}

func (n *netConn) Read(p []byte) (int, error) {
	if n.idle.Swap(false) {
		// net/http is between requests and reads nothing else meanwhile:
		// its answer is written, and its background read starts only once
		// it has a request.
		if err := n.s.serveFast(n.c); err != nil {
			return 0, err
		}
		return n.Conn.Read(p)
	}
	if len(p) == 1 {
		return n.readOne(p)
	}
	return n.Conn.Read(p)
}

// readOne serves a 1-byte read while net/http has a request: that is its
// background read (which watches for the client going away while a
// handler runs), or, rarely, a body read with one byte left. net/http
// writes its answer before it aborts the background read, so a client that
// sends its next request at once would lose the request's first byte to
// it, and the fast path the request. So a 1-byte read that finds data
// waits a moment: if net/http aborts it, it takes nothing and the request
// stays whole for the fast path; if not (a body read, or a request
// pipelined behind a slow handler), it reads the byte.
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

// SetReadDeadline notes net/http's aborts of its background read: it sets
// a deadline in the past for them and for nothing else.
func (n *netConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && t.Before(time.Now()) {
		select {
		case n.aborted <- struct{}{}:
		default:
		}
	}
	return n.Conn.SetReadDeadline(t)
}

// ConnState is the http.Server's ConnState hook for the connections that
// came out of Accept: it tells them when net/http waits for their next
// request. Set it on the http.Server that serves s.
func (s *Server) ConnState(c net.Conn, state http.ConnState) {
	if n, ok := c.(*netConn); ok {
		// Between requests no read is aborted: a signal left is the last
		// request's, and must not cut a read of the next one.
		select {
		case <-n.aborted:
		default:
		}
		n.idle.Store(state == http.StateIdle)
	}
}

// serveFast answers fast requests on c and returns once c holds a request
// for net/http, or the error that ends the connection (net.ErrClosed once
// s closes).
func (s *Server) serveFast(c *conn) error {
	for {
		head, err := s.readHead(c)
		if err != nil {
			return err
		}
		if head == nil || !s.answer(c, head) {
			return nil
		}
	}
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
