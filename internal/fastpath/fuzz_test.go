package fastpath

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"
)

// memConn is a connection that reads in, then EOF, and discards what is
// written; done closes when the server closes it.
type memConn struct {
	r    io.Reader
	done chan struct{}
	once sync.Once
}

func (c *memConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *memConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *memConn) Close() error                     { c.once.Do(func() { close(c.done) }); return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// connListener hands out the connections sent on it.
type connListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}
func (l *connListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *connListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }

// oracle is a real net/http server; parse tells what it makes of the
// first request in a stream.
type oracle struct {
	ln   *connListener
	mu   sync.Mutex
	reqs map[*memConn]*http.Request
}

func newOracle(t testing.TB) *oracle {
	o := &oracle{ln: &connListener{conns: make(chan net.Conn), closed: make(chan struct{})}, reqs: map[*memConn]*http.Request{}}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			c := r.Context().Value(connKey{}).(*memConn)
			o.mu.Lock()
			defer o.mu.Unlock()
			if _, ok := o.reqs[c]; !ok {
				o.reqs[c] = r.Clone(r.Context())
			}
		}),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
		ErrorLog:    log.New(io.Discard, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(o.ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return o
}

type connKey struct{}

// parse serves raw on a new connection and returns the first request the
// handler got, or nil if net/http answered it itself (an error).
func (o *oracle) parse(raw []byte) *http.Request {
	c := &memConn{r: bytes.NewReader(raw), done: make(chan struct{})}
	o.ln.conns <- c
	<-c.done
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.reqs[c]
	delete(o.reqs, c)
	return r
}

// FuzzParseMatchesNetHTTP: whenever the fast path takes a request head, a
// net/http server parses the same bytes to the same request: method,
// target, Host and headers, and a head net/http refuses the fast path
// declines.
func FuzzParseMatchesNetHTTP(f *testing.F) {
	for _, seed := range []string{
		"GET /a/b HTTP/1.1\r\nHost: objstore\r\n\r\n",
		"HEAD /b/k?X-Amz-Credential=AKID%2F2026&a HTTP/1.1\r\nhost: a:1\r\nX-Amz-Date: 20260101T000000Z\r\n\r\n",
		"GET / HTTP/1.1\r\nHost:\r\nConnection: keep-alive\r\nX-A: \t v \t\r\n\r\n",
		"GET /sub-delims!$&'()*+,;=:@~ HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a|b\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a@b\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a#b\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a^b\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a`b\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a%25b\r\n\r\n",
		"GET /a HTTP/1.1\nHost: h\n\n",
		"GET /a HTTP/1.1\r\nHost: h\n\r\n",
		"GET /a HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: h\r\nPragma: no-cache\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: h\r\nX-A: caf\xc3\xa9\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
		"XGET /a HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /a?b#c HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET //x/a HTTP/1.1\r\nHost: h\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	o := newOracle(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		n := headLen(raw)
		var fast Request
		if n <= 0 || !fast.parse(raw[:n]) {
			return // declined: net/http answers, whatever it makes of it
		}
		want, err := fast.HTTPRequest()
		if err != nil {
			t.Fatalf("the fast path took %q, but its request does not convert: %v", raw, err)
		}
		got := o.parse(raw)
		if got == nil {
			t.Fatalf("the fast path took %q, net/http refused it", raw)
		}
		if got.Method != want.Method || got.RequestURI != want.RequestURI || got.Host != want.Host ||
			got.URL.Path != want.URL.Path || got.URL.RawQuery != want.URL.RawQuery || string(fast.Path()) != got.URL.Path {
			t.Fatalf("%q: net/http %s %q (path %q, query %q) host %q; fast path %s %q (path %q) host %q", raw,
				got.Method, got.RequestURI, got.URL.Path, got.URL.RawQuery, got.Host, want.Method, want.RequestURI, fast.Path(), want.Host)
		}
		if !reflect.DeepEqual(map[string][]string(got.Header), map[string][]string(want.Header)) {
			t.Fatalf("%q: headers: net/http %v, fast path %v", raw, got.Header, want.Header)
		}
		for k, vs := range got.Header {
			if v, ok := fast.Header(k); !ok || string(v) != vs[0] {
				t.Fatalf("%q: Header(%q) = %q, %v; net/http %q", raw, k, v, ok, vs[0])
			}
		}
	})
}
