package objstoretest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/requestid"
)

// FastAPI is an API with a fast path: its net/http handler and its
// Answerer.
type FastAPI interface {
	http.Handler
	fastpath.Answerer
}

// FastTimeouts are the timeouts of the servers ServeFast starts.
const (
	FastReadHeaderTimeout = 10 * time.Second
	FastIdleTimeout       = time.Minute
)

// ServeFast serves api as objstore does: the fast path takes the
// connections and hands net/http those it does not serve, behind
// requestid.Middleware. Both stop when
// the test ends.
func ServeFast(t testing.TB, api FastAPI) (*httptest.Server, *fastpath.Server) {
	t.Helper()
	return ServeFastWith(t, api, func(*http.Server) {})
}

// ServeFastWith is ServeFast with the http.Server set up by configure
// first (its timeouts, say).
func ServeFastWith(t testing.TB, api FastAPI, configure func(*http.Server)) (*httptest.Server, *fastpath.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(requestid.Middleware(api))
	srv.Config.ReadHeaderTimeout = FastReadHeaderTimeout
	srv.Config.IdleTimeout = FastIdleTimeout
	configure(srv.Config)
	fast := fastpath.New(srv.Config, srv.Listener, api)
	srv.Listener = fast.Listener()
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := fast.Shutdown(ctx); err != nil {
			t.Errorf("fast path shutdown: %v", err)
		}
	})
	return srv, fast
}

// SlowPath is the path of requests that Slow holds for SlowDelay before
// its handler answers them.
const (
	SlowPath  = "/objstoretest-slow"
	SlowDelay = 100 * time.Millisecond
)

// Slow wraps h so that a request for SlowPath is answered by h after
// SlowDelay; entered gets a signal when such a request reaches it.
func Slow(h http.Handler) (slow http.Handler, entered <-chan struct{}) {
	ch := make(chan struct{}, 16)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == SlowPath {
			ch <- struct{}{}
			time.Sleep(SlowDelay)
		}
		h.ServeHTTP(w, r)
	}), ch
}

// Boundaries describes an API served twice, for CheckRequestBoundaries:
// with the fast path and by net/http alone, each with its handler wrapped
// by Slow.
type Boundaries struct {
	Fast, Plain               *httptest.Server
	FastEntered, PlainEntered <-chan struct{}
	Hot                       string // a whole request head the fast path answers
	// Normalize, if set, drops what differs between two answers of the
	// same request (request IDs) from an answer's body.
	Normalize func([]byte) []byte
}

// CheckRequestBoundaries checks that the fast path reads a request only
// where one starts: every stream below gets exactly net/http's answers,
// and none of them is the hot request answered.
//
//   - straddle: a declined request, then one whose X-Pad header value ends
//     with Hot's request line placed at byte 4096 of the stream, where
//     net/http's first 4 KiB read ends;
//   - held byte: a declined request that ends at byte 4095, then "X"+Hot:
//     net/http holds the X in its buffer after the first request;
//   - background byte: a request net/http's handler answers slowly, and
//     "X"+Hot sent while it runs, so that net/http's background read takes
//     the X.
func CheckRequestBoundaries(t *testing.T, b Boundaries) {
	t.Helper()
	const declined = "GET /objstoretest-declined HTTP/1.1\r\n"
	last := declined + "Host: x\r\nConnection: close\r\n\r\n"
	first := declined + "Host: x\r\n\r\n"
	second := declined + "X-Pad: "
	straddle := first + second + strings.Repeat("p", 4096-len(first)-len(second)) + b.Hot + last
	if i := strings.Index(straddle, b.Hot); i != 4096 {
		t.Fatalf("the hot request is at byte %d", i)
	}
	padded := declined + "Host: x\r\nX-Pad: \r\n\r\n"
	padded = declined + "Host: x\r\nX-Pad: " + strings.Repeat("p", 4095-len(padded)) + "\r\n\r\n"
	slow := "GET " + SlowPath + " HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, tc := range []struct {
		name        string
		first, rest string
		wait        bool
	}{
		{"straddle", straddle, "", false},
		{"held byte", padded + "X" + b.Hot + last, "", false},
		{"background byte", slow, "X" + b.Hot + last, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fast := exchange(t, b.Fast, b.FastEntered, tc.first, tc.rest, tc.wait, b.Normalize)
			plain := exchange(t, b.Plain, b.PlainEntered, tc.first, tc.rest, tc.wait, b.Normalize)
			if !slices.Equal(fast, plain) {
				t.Errorf("with the fast path:\n%s\nnet/http alone:\n%s", strings.Join(fast, "\n"), strings.Join(plain, "\n"))
			}
		})
	}
}

// exchange sends first, then, once the slow handler has entered if wait,
// rest, and returns every answer until the server closes: its status, and
// its body normalized by normalize (if set), summed up.
func exchange(t *testing.T, srv *httptest.Server, entered <-chan struct{}, first, rest string, wait bool,
	normalize func([]byte) []byte) []string {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, first); err != nil {
		t.Fatal(err)
	}
	if wait {
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the slow request did not reach the handler")
		}
	}
	if _, err := io.WriteString(conn, rest); err != nil {
		t.Fatal(err)
	}
	var answers []string
	r := bufio.NewReader(conn)
	for {
		if _, err := r.Peek(1); errors.Is(err, io.EOF) {
			return answers // the server closed after its last answer
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("after %d answers: %v", len(answers), err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if normalize != nil {
			body = normalize(body)
		}
		sum := sha256.Sum256(body)
		answers = append(answers, fmt.Sprintf("%d, %d bytes, sha256 %x, %.60q", resp.StatusCode, len(body), sum[:8], body))
	}
}

// CheckHosts checks that a request with each Host net/http refuses gets
// net/http's answer with the fast path too: hot is a whole request head
// the fast path answers, with one Host line.
func CheckHosts(t *testing.T, fast, plain *httptest.Server, hot string) {
	t.Helper()
	for _, host := range []string{"a|b", "a@b", "a#b", "a^b", "a`b", "a b", "a\"b", "a{b}", "a\\b", "a<b>"} {
		i := strings.Index(strings.ToLower(hot), "\r\nhost:")
		if i < 0 {
			t.Fatal("no Host line in the hot request")
		}
		end := i + 2 + strings.Index(hot[i+2:], "\r\n")
		req := hot[:i] + "\r\nHost: " + host + hot[end:]
		f := exchange(t, fast, nil, req, "", false, nil)
		p := exchange(t, plain, nil, req, "", false, nil)
		if !slices.Equal(f, p) || len(p) != 1 || !strings.HasPrefix(p[0], "400,") {
			t.Errorf("Host %q: with the fast path %q, net/http alone %q", host, f, p)
		}
	}
}
