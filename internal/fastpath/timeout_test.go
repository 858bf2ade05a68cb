package fastpath

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// hotAPI answers GET /hot on the fast path; net/http answers the rest.
type hotAPI struct{}

func (hotAPI) Answer(req *Request) (Answer, bool) {
	if string(req.Path()) != "/hot" {
		return Answer{}, false
	}
	return Answer{Head: []byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"), Body: []byte("hot")}, true
}

func (hotAPI) ServeHTTP(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "net/http") }

// serveHot serves hotAPI through the fast path with srv's timeouts and
// returns its address.
func serveHot(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Handler = hotAPI{}
	fp := New(srv, ln, hotAPI{})
	served := startServing(fp)
	t.Cleanup(func() { stopServing(t, fp, served, 10*time.Second) })
	return ln.Addr().String()
}

// startServing runs fp's Serve and returns what it will return.
func startServing(fp *Server) <-chan error {
	served := make(chan error, 1)
	go func() { served <- fp.Serve() }()
	return served
}

// stopServing shuts fp down within d and checks that Shutdown and Serve
// (served, from startServing) ended as they should.
func stopServing(t *testing.T, fp *Server, served <-chan error, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := fp.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve: %v", err)
	}
}

// closedAfter sends parts, part i at offsets[i] after the dial, and returns
// how long after the dial the server closed the connection.
func closedAfter(t *testing.T, addr string, offsets []time.Duration, parts ...string) time.Duration {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_ = c.SetDeadline(start.Add(30 * time.Second))
	go func() {
		for i, p := range parts {
			time.Sleep(time.Until(start.Add(offsets[i])))
			if _, err := io.WriteString(c, p); err != nil {
				return
			}
		}
	}()
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("waiting for the server to close: %v", err)
	}
	return time.Since(start)
}

// A new connection gets the header timeout, not the idle timeout, for its
// first request, as under net/http.
func TestFirstRequestGetsHeaderTimeout(t *testing.T) {
	addr := serveHot(t, &http.Server{ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: time.Minute})
	for _, parts := range [][]string{nil, {"GET /ho"}} {
		offsets := make([]time.Duration, len(parts))
		if d := closedAfter(t, addr, offsets, parts...); d < 250*time.Millisecond || d > 20*time.Second {
			t.Errorf("sent %q: closed after %v, want the header timeout of 300ms", parts, d)
		}
	}
}

// The header deadline of a head that the fast path starts and hands to
// net/http (here: longer than its buffer) does not restart at the hand-off.
func TestHeaderDeadlineKeptAcrossHandOff(t *testing.T) {
	const timeout = 2 * time.Second
	addr := serveHot(t, &http.Server{ReadHeaderTimeout: timeout, IdleTimeout: time.Minute})
	head := "GET /cold HTTP/1.1\r\nHost: x\r\nX-Pad: "
	d := closedAfter(t, addr, []time.Duration{0, 1500 * time.Millisecond}, head, strings.Repeat("p", 5000))
	// Restarted at the hand-off, it would end at 1.5s + 2s.
	if d < timeout-100*time.Millisecond || d > timeout+time.Second {
		t.Errorf("closed after %v, want the header timeout of %v from the dial", d, timeout)
	}
}

// After an answer, a connection waits the idle timeout for the next
// request, and the header timeout starts with its first bytes.
func TestIdleTimeoutAfterFastAnswer(t *testing.T) {
	addr := serveHot(t, &http.Server{ReadHeaderTimeout: time.Minute, IdleTimeout: 300 * time.Millisecond})
	if d := closedAfter(t, addr, []time.Duration{0}, "GET /hot HTTP/1.1\r\nHost: x\r\n\r\n"); d < 250*time.Millisecond || d > 20*time.Second {
		t.Errorf("closed after %v, want the idle timeout of 300ms", d)
	}
}

// A connection that was dialled and has sent nothing does not hold
// Shutdown for its whole timeout: its wait ends at its drain deadline, the
// accept plus newConnGrace (Go's Transport parks such connections in its
// pool when another frees up first).
func TestShutdownClosesConnectionsThatSentNothing(t *testing.T) {
	fp, served, c := dialSilent(t, 100*time.Millisecond)
	stopServing(t, fp, served, 5*time.Second)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("client read %d bytes, %v; want EOF", n, err)
	}
}

// A connection accepted just before Shutdown may still send its first
// request within newConnGrace, and gets its answer, as under net/http.
func TestShutdownServesANewConnectionsFirstRequest(t *testing.T) {
	fp, served, c := dialSilent(t, time.Minute)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		stopServing(t, fp, served, 10*time.Second)
	}()
	<-fp.done // Shutdown has begun
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /hot HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 200 ") || !strings.HasSuffix(string(got), "\r\n\r\nhot") {
		t.Errorf("answer %q (%v), want 200 hot and then the connection closed", got, err)
	}
	<-stopped
}

// dialSilent serves a fast path whose new connections have grace to send
// their first request once Shutdown began (served is startServing's), and
// dials one that sends nothing; it returns once the connection is accepted.
func dialSilent(t *testing.T, grace time.Duration) (fp *Server, served <-chan error, c net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fp = New(&http.Server{Handler: hotAPI{}, ReadHeaderTimeout: time.Minute}, ln, hotAPI{})
	fp.newConnGrace = grace
	served = startServing(fp)
	c, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for give := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		fp.mu.Lock()
		tracked := len(fp.conns)
		fp.mu.Unlock()
		if tracked > 0 {
			return fp, served, c
		}
		if time.Now().After(give) {
			t.Fatal("the dialled connection was never accepted")
		}
	}
}
