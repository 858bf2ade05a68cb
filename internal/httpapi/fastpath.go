package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oklog/ulid/v2"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/handoff"
	"sphere.software/objstore/internal/node"
)

// FastPath serves the hottest requests of the native API, plain GETs and
// HEADs of objects whose bodies the node holds in memory, straight from the
// connection, and hands every other connection to net/http.
//
// Why: for a 4 KiB body net/http's per-request work (a header map, a
// context, a background read per request, buffered writers) costs more CPU
// than everything objstore does, and on a small machine a bare net/http
// server answers about 0.65× the requests nginx does. A connection served
// here costs a few header comparisons and one write per request.
//
// What is served here is narrow on purpose: HTTP/1.1, GET or HEAD of
// /api/v1/get/<ULID>, with a Host header and no body, no Range, no
// preconditions, no Expect, no Upgrade, no Connection other than
// keep-alive, a request head that fits in the read buffer and only valid
// header bytes, and a body in the node's hot cache. The answer carries the
// same status, headers and body that the net/http handler gives (Date
// included). The first request that is anything else, or misses the hot
// cache, hands the connection to net/http with every byte read so far, and
// net/http serves it from then on: there is one HTTP implementation for
// everything but the hot path, and a request is never parsed by both.
//
// FastPath is a net.Listener for the http.Server that serves the handed-off
// connections: give it to Serve. Closing it (http.Server.Shutdown does)
// stops accepting and closes idle connections; Shutdown waits for the
// connections busy here to finish their answer.
type FastPath struct {
	api     *Native
	ln      net.Listener
	handoff *handoff.Listener // the connections for net/http
	done    chan struct{}

	idleTimeout, headerTimeout time.Duration

	closeOnce sync.Once
	mu        sync.Mutex
	conns     map[*fastConn]struct{}
	wg        sync.WaitGroup // fast connections being served

	date   atomic.Pointer[dateLine]
	served atomic.Uint64 // answers written here, for tests
}

// FastPathConfig configures a FastPath.
type FastPathConfig struct {
	// IdleTimeout closes a connection that sends no request for this long.
	IdleTimeout time.Duration
	// ReadHeaderTimeout bounds the time to read a request head.
	ReadHeaderTimeout time.Duration
}

// fastReadBuffer is the read buffer of a connection served here: a request
// head that does not fit is handed to net/http, which has its own limit.
const fastReadBuffer = 4 << 10

// NewFastPath accepts connections on ln and serves the native API's hot
// GETs on them; the other connections come out of its Accept.
func NewFastPath(api *Native, ln net.Listener, cfg FastPathConfig) *FastPath {
	f := &FastPath{
		api: api, ln: ln,
		handoff:       handoff.NewListener(ln.Addr()),
		done:          make(chan struct{}),
		idleTimeout:   cfg.IdleTimeout,
		headerTimeout: cfg.ReadHeaderTimeout,
		conns:         make(map[*fastConn]struct{}),
	}
	go f.acceptLoop()
	return f
}

// Accept returns the next connection for net/http.
func (f *FastPath) Accept() (net.Conn, error) { return f.handoff.Accept() }

// Addr is the listener's address.
func (f *FastPath) Addr() net.Addr { return f.ln.Addr() }

// Close stops accepting and closes the connections that wait for a request.
// A connection busy with an answer closes when the answer is written.
func (f *FastPath) Close() error {
	var err error
	f.closeOnce.Do(func() {
		close(f.done)
		_ = f.handoff.Close() // never fails
		err = f.ln.Close()
		f.mu.Lock()
		for c := range f.conns {
			if c.idle.Load() {
				_ = c.conn.Close()
			}
		}
		f.mu.Unlock()
	})
	return err
}

// Shutdown closes f and waits for the connections served here to finish
// their answers, or for ctx to end, when it closes them.
func (f *FastPath) Shutdown(ctx context.Context) error {
	_ = f.Close()
	finished := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		for c := range f.conns {
			_ = c.conn.Close()
		}
		f.mu.Unlock()
		<-finished
		return ctx.Err()
	}
}

func (f *FastPath) acceptLoop() {
	var delay time.Duration
	for {
		conn, err := f.ln.Accept()
		if err != nil {
			select {
			case <-f.done:
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
			if !errors.Is(err, net.ErrClosed) {
				f.api.log.Error("public api: accept failed", "err", err)
			}
			_ = f.Close()
			return
		}
		delay = 0
		c := &fastConn{conn: conn, r: bufio.NewReaderSize(conn, fastReadBuffer)}
		if !f.track(c) {
			_ = conn.Close()
			continue
		}
		go f.serve(c)
	}
}

// track registers c, unless f is closed.
func (f *FastPath) track(c *fastConn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.done:
		return false
	default:
	}
	f.conns[c] = struct{}{}
	f.wg.Add(1)
	return true
}

func (f *FastPath) untrack(c *fastConn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	f.wg.Done()
}

// fastConn is one connection served by the fast path.
type fastConn struct {
	conn net.Conn
	r    *bufio.Reader
	out  []byte
	idle atomic.Bool // waiting for a request: Close may close it
}

// serve answers hot GETs on c until a request needs net/http, the client
// closes, or f closes.
func (f *FastPath) serve(c *fastConn) {
	handed := false
	defer func() {
		f.untrack(c)
		if !handed {
			_ = c.conn.Close()
		}
	}()
	for {
		head, err := f.readHead(c)
		if err != nil {
			return
		}
		if head == nil || !f.answer(c, head) {
			handed = f.handOff(c)
			return
		}
		select {
		case <-f.done:
			return
		default:
		}
	}
}

// readHead waits for the next request and returns its head, without
// consuming it; nil means one that does not fit in the buffer.
func (f *FastPath) readHead(c *fastConn) ([]byte, error) {
	c.idle.Store(true)
	if c.r.Buffered() == 0 {
		select {
		case <-f.done: // Close may have missed c while it was busy
			return nil, net.ErrClosed
		default:
		}
		if err := setReadDeadline(c.conn, f.idleTimeout); err != nil {
			return nil, err
		}
		if _, err := c.r.Peek(1); err != nil {
			return nil, err
		}
	}
	c.idle.Store(false)
	if err := setReadDeadline(c.conn, f.headerTimeout); err != nil {
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
			if c.r.Buffered() > 0 && !errors.Is(err, io.EOF) {
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

// answer serves the request whose head is head if it is a hot GET and
// consumes it; it reports false, consuming nothing, when net/http must
// serve it.
func (f *FastPath) answer(c *fastConn, head []byte) bool {
	req, ok := parseHotGet(head)
	if !ok {
		return false
	}
	id, err := ulid.ParseStrict(string(req.id))
	if err != nil {
		return false // net/http answers with the error
	}
	obj, ok := f.api.store.GetHot(objstore.Key{Bucket: f.api.cfg.Bucket, ID: id.String()})
	if !ok {
		return false
	}
	defer obj.Close()
	p := prepare(obj)
	c.out = append(c.out[:0], "HTTP/1.1 200 OK\r\n"...)
	c.out = append(c.out, p.wire...)
	c.out = append(c.out, f.dateLine()...)
	c.out = append(c.out, "\r\n"...)
	if _, err := c.r.Discard(len(head)); err != nil {
		return false
	}
	f.served.Add(1) // before the write, so a client that has the answer sees it counted
	var err2 error
	switch {
	case req.head:
		_, err2 = c.conn.Write(c.out)
	case len(obj.Bytes) <= 16<<10:
		c.out = append(c.out, obj.Bytes...)
		_, err2 = c.conn.Write(c.out)
	default:
		bufs := net.Buffers{c.out, obj.Bytes}
		_, err2 = bufs.WriteTo(c.conn)
	}
	if err2 != nil {
		// The client left; the request was consumed, so nobody gets
		// the connection.
		_ = c.conn.Close()
	}
	return true
}

// handOff gives c, and what it has read, to net/http; false, with c
// closed, if f closed first.
func (f *FastPath) handOff(c *fastConn) bool {
	_ = c.conn.SetReadDeadline(time.Time{}) // net/http sets its own
	return f.handoff.Deliver(handoff.NewConn(c.conn, c.r), f.done)
}

// hotGet is what the fast path needs of a request.
type hotGet struct {
	head bool   // HEAD, not GET
	id   []byte // the id in /api/v1/get/<id>
}

var getPrefix = []byte("/api/v1/get/")

// parseHotGet parses a request head that ends with an empty line. It
// reports false for anything the fast path does not answer, and for
// anything that is not a well-formed request: net/http answers those.
func parseHotGet(head []byte) (hotGet, bool) {
	var req hotGet
	line, rest, ok := bytes.Cut(head, crlf)
	if !ok {
		return req, false
	}
	method, line, ok := bytes.Cut(line, sp)
	if !ok {
		return req, false
	}
	switch string(method) {
	case http.MethodGet:
	case http.MethodHead:
		req.head = true
	default:
		return req, false
	}
	target, proto, ok := bytes.Cut(line, sp)
	if !ok || string(proto) != "HTTP/1.1" {
		return req, false
	}
	path, _, _ := bytes.Cut(target, []byte("?"))
	id, ok := bytes.CutPrefix(path, getPrefix)
	if !ok || len(id) != ulid.EncodedSize {
		return req, false
	}
	for _, b := range target {
		if b <= ' ' || b >= 0x7f || b == '%' || b == '#' {
			return req, false
		}
	}
	req.id = id
	hosts := 0
	for len(rest) > 0 {
		line, rest, ok = bytes.Cut(rest, crlf)
		if !ok {
			return req, false
		}
		if len(line) == 0 {
			break // the empty line that ends the head
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !validName(name) || !validValue(value) {
			return req, false // also obs-fold: a line starting with a space
		}
		value = bytes.Trim(value, " \t")
		switch {
		case equalFold(name, "Host"):
			if !validHost(value) {
				return req, false
			}
			hosts++
		case equalFold(name, "Connection"):
			if !equalFold(value, "keep-alive") {
				return req, false
			}
		case equalFold(name, "Content-Length"), equalFold(name, "Transfer-Encoding"),
			equalFold(name, "Expect"), equalFold(name, "Upgrade"), equalFold(name, "Range"),
			equalFold(name, "If-Match"), equalFold(name, "If-None-Match"), equalFold(name, "If-Modified-Since"),
			equalFold(name, "If-Unmodified-Since"), equalFold(name, "If-Range"):
			return req, false
		}
	}
	return req, hosts == 1
}

var (
	crlf = []byte("\r\n")
	sp   = []byte(" ")
)

// equalFold is an ASCII case-insensitive comparison of b with s.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// validName reports whether b is an HTTP token (RFC 9110, section 5.6.2).
func validName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTokenChar(c) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// validHost reports whether b has only the bytes net/http accepts in a
// Host header.
func validHost(b []byte) bool {
	for _, c := range b {
		if !isTokenChar(c) && !bytes.ContainsRune([]byte("[]:;=,()@"), rune(c)) {
			return false
		}
	}
	return true
}

// validValue reports whether b holds no control characters but tab.
func validValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// dateLine is a Date header line, valid for the second it was made in.
type dateLine struct {
	unix int64
	line []byte
}

// dateLine returns "Date: <now>\r\n", as net/http sends on every answer.
func (f *FastPath) dateLine() []byte {
	now := time.Now()
	if d := f.date.Load(); d != nil && d.unix == now.Unix() {
		return d.line
	}
	d := &dateLine{unix: now.Unix()}
	d.line = append([]byte("Date: "), now.UTC().AppendFormat(nil, http.TimeFormat)...)
	d.line = append(d.line, crlf...)
	f.date.Store(d)
	return d.line
}

// prepared is what answering a body held in memory needs, computed once per
// hot-cache entry: the headers for net/http, and the same headers as wire
// bytes for the fast path.
type prepared struct {
	header http.Header
	wire   []byte
}

// prepare returns the prepared answer headers of obj, a body held in
// memory, from its hot-cache entry's memo when they were made before.
func prepare(obj *node.Object) *prepared {
	if p, _ := obj.Memo.Load().(*prepared); p != nil {
		return p
	}
	h := http.Header{}
	metaHeaders(h, obj.Record)
	storedHeaders(h, obj.Record)
	h.Set("Content-Type", obj.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(obj.Bytes)))
	h.Set("Accept-Ranges", "bytes")
	if obj.Source == node.SourcePeer {
		h.Set("X-Meta-Symlink", "true") // the body is a peer's, held here in memory only
	}
	var wire bytes.Buffer
	_ = h.Write(&wire) // sorted, values sanitised as net/http writes them
	p := &prepared{header: h, wire: wire.Bytes()}
	obj.Memo.Store(p)
	return p
}
