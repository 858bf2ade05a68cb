package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/objstoretest"
	"sphere.software/objstore/internal/requestid"
)

// fastFixture is one node served twice: by net/http alone and through
// FastPath, with a small object in the hot cache and a large one that
// never is.
type fastFixture struct {
	plain, fast *httptest.Server
	fp          *fastpath.Server
	api         *Native
	small, big  string // ids
	smallBody   []byte
	bigBody     []byte
}

func newFastFixture(t *testing.T) *fastFixture {
	t.Helper()
	_, n := newNodeServer(t, node.Config{HotCacheBytes: 16 << 20})
	api := NewNative(Config{Bucket: "bkt", Version: "test"}, n)
	plain := httptest.NewServer(requestid.Middleware(api))
	t.Cleanup(plain.Close)
	fast, fp := serveFast(t, api)
	fx := &fastFixture{plain: plain, fast: fast, fp: fp, api: api,
		small: ulid.Make().String(), big: ulid.Make().String(),
		smallBody: randomBytes(4096), bigBody: randomBytes(3 << 20)}
	put := func(id string, body []byte, name string, meta string, headers map[string]string) {
		_, err := n.Put(t.Context(), node.PutRequest{Key: objstore.Key{Bucket: "bkt", ID: id}, Name: name,
			UserMeta: []byte(meta), Headers: headers, Size: int64(len(body)), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	put(fx.small, fx.smallBody, "résumé.pdf", `{"team":"ops","n":1}`,
		map[string]string{"Cache-Control": "max-age=60", "Content-Disposition": `inline; filename="r.pdf"`})
	put(fx.big, fx.bigBody, "big.bin", "", nil)
	if resp, _ := do(t, "GET", plain.URL+"/api/v1/get/"+fx.small, nil, ""); resp.StatusCode != 200 {
		t.Fatalf("warming the hot cache: status %d", resp.StatusCode)
	}
	return fx
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// rawConn is a client connection that writes raw request bytes and reads
// answers one by one.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, srv *httptest.Server) *rawConn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *rawConn) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, raw); err != nil {
		c.t.Fatal(err)
	}
}

// answer reads one answer to a request with method.
type answer struct {
	status int
	header http.Header
	body   []byte
	close  bool
}

func (c *rawConn) read(method string) answer {
	c.t.Helper()
	resp, err := http.ReadResponse(c.r, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading the body: %v", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body, close: resp.Close}
}

func get(method, id string, extra ...string) string {
	return method + " /api/v1/get/" + id + " HTTP/1.1\r\nHost: objstore\r\n" + strings.Join(extra, "") + "\r\n"
}

// withoutDate drops the Date and X-Request-Id headers, which differ from
// answer to answer, after checking they are a valid date and an ID.
func withoutDate(t *testing.T, h http.Header) http.Header {
	t.Helper()
	if _, err := http.ParseTime(h.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if id := h.Get(requestid.Header); !requestid.Valid(id) {
		t.Errorf("X-Request-Id %q: want an ID", id)
	}
	h = h.Clone()
	h.Del("Date")
	h.Del(requestid.Header)
	return h
}

// TestFastPathSameAnswer checks that a hot GET or HEAD served by the fast
// path answers exactly what net/http does, Date aside.
func TestFastPathSameAnswer(t *testing.T) {
	fx := newFastFixture(t)
	for _, method := range []string{"GET", "HEAD"} {
		for _, req := range []string{
			get(method, fx.small),
			get(method, strings.ToLower(fx.small), "Connection: keep-alive\r\n", "X-Meta-Fetch: 1\r\n"),
			method + " /api/v1/get/" + fx.small + "?x=1 HTTP/1.1\r\nhost: a:1\r\nUser-Agent: test\r\n\r\n",
		} {
			t.Run(fmt.Sprintf("%q", req), func(t *testing.T) {
				before := fx.fp.Served()
				c := dialRaw(t, fx.fast)
				c.send(req)
				fast := c.read(method)
				if got := fx.fp.Served() - before; got != 1 {
					t.Fatalf("fast path served %d answers, want 1", got)
				}
				p := dialRaw(t, fx.plain)
				p.send(req)
				plain := p.read(method)
				if fast.status != 200 || plain.status != 200 {
					t.Fatalf("status fast %d, net/http %d", fast.status, plain.status)
				}
				if f, p := withoutDate(t, fast.header), withoutDate(t, plain.header); !reflect.DeepEqual(f, p) {
					t.Errorf("headers differ:\nfast     %v\nnet/http %v", f, p)
				}
				if !bytes.Equal(fast.body, plain.body) {
					t.Errorf("bodies differ: %d and %d bytes", len(fast.body), len(plain.body))
				}
				if method == "GET" && !bytes.Equal(fast.body, fx.smallBody) {
					t.Errorf("body is not the object's")
				}
			})
		}
	}
}

// TestFastPathHandOff pipelines hot GETs with requests only net/http
// answers on one connection: every answer is right and in order, and the
// connection stays with net/http once handed over.
func TestFastPathHandOff(t *testing.T) {
	fx := newFastFixture(t)
	id := ulid.Make().String()
	put := "POST /api/v1/put HTTP/1.1\r\nHost: x\r\nX-Meta-ID: " + id + "\r\nContent-Length: 5\r\n\r\nhello"
	before := fx.fp.Served()
	c := dialRaw(t, fx.fast)
	c.send(get("GET", fx.small) + get("HEAD", fx.small) + get("GET", fx.small, "Range: bytes=1-3\r\n") +
		get("GET", fx.small) + put + get("GET", id) + get("GET", fx.big))
	want := []struct {
		method string
		status int
		body   []byte
	}{
		{"GET", 200, fx.smallBody},
		{"HEAD", 200, nil},
		{"GET", 206, fx.smallBody[1:4]},
		{"GET", 200, fx.smallBody},
		{"POST", 200, nil},
		{"GET", 200, []byte("hello")},
		{"GET", 200, fx.bigBody},
	}
	for i, w := range want {
		a := c.read(w.method)
		if a.status != w.status || !bytes.Equal(a.body, w.body) {
			t.Errorf("answer %d: %d with %d bytes, want %d with %d bytes", i, a.status, len(a.body), w.status, len(w.body))
		}
	}
	if got := fx.fp.Served() - before; got != 2 {
		t.Errorf("fast path served %d answers, want the 2 before the range request", got)
	}
}

// TestFastPathBetweenNetHTTPRequests: on a connection net/http serves
// since a request the fast path declined, the hot GETs that come while
// net/http waits for a request are still answered by the fast path, in
// order with net/http's answers, also when each request is sent the moment
// the previous answer is read (net/http's background read must not take
// its first byte).
func TestFastPathBetweenNetHTTPRequests(t *testing.T) {
	fx := newFastFixture(t)
	id := ulid.Make().String()
	c := dialRaw(t, fx.fast)
	steps := []struct {
		req    string
		method string
		status int
		body   []byte
		fast   bool
	}{
		{"POST /api/v1/put HTTP/1.1\r\nHost: x\r\nX-Meta-ID: " + id + "\r\nContent-Length: 5\r\n\r\nhello", "POST", 200, nil, false},
		{get("GET", fx.small), "GET", 200, fx.smallBody, true},
		{get("GET", fx.small, "Range: bytes=0-1\r\n"), "GET", 206, fx.smallBody[:2], false},
		{get("HEAD", fx.small), "HEAD", 200, nil, true},
		{get("GET", fx.big), "GET", 200, fx.bigBody, false},
		{get("GET", fx.small), "GET", 200, fx.smallBody, true},
		{get("GET", id), "GET", 200, []byte("hello"), false}, // a miss: it enters the hot cache
		{get("GET", id), "GET", 200, []byte("hello"), true},
	}
	for i, st := range steps {
		before := fx.fp.Served()
		c.send(st.req)
		a := c.read(st.method)
		if a.status != st.status || !bytes.Equal(a.body, st.body) {
			t.Fatalf("step %d: %d with %d bytes, want %d with %d bytes", i, a.status, len(a.body), st.status, len(st.body))
		}
		if fast := fx.fp.Served() != before; fast != st.fast {
			t.Errorf("step %d: answered by the fast path %v, want %v", i, fast, st.fast)
		}
	}
}

// TestFastPathLeavesTheRestToNetHTTP sends requests the fast path must not
// answer itself and checks they get net/http's answer, status and body.
func TestFastPathLeavesTheRestToNetHTTP(t *testing.T) {
	fx := newFastFixture(t)
	etag := `"` + "x" + `"`
	if resp, _ := do(t, "HEAD", fx.plain.URL+"/api/v1/get/"+fx.small, nil, ""); resp.Header.Get("ETag") != "" {
		etag = resp.Header.Get("ETag")
	}
	id := fx.small
	long := "X-Long: " + strings.Repeat("a", 6000) + "\r\n"
	tests := map[string]string{
		"no host":              "GET /api/v1/get/" + id + " HTTP/1.1\r\n\r\n",
		"two hosts":            "GET /api/v1/get/" + id + " HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"bad host":             "GET /api/v1/get/" + id + " HTTP/1.1\r\nHost: a b\r\n\r\n",
		"http/1.0":             "GET /api/v1/get/" + id + " HTTP/1.0\r\n\r\n",
		"connection close":     get("GET", id, "Connection: close\r\n"),
		"if-none-match":        get("GET", id, "If-None-Match: "+etag+"\r\n"),
		"if-modified-since":    get("GET", id, "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n"),
		"range":                get("GET", id, "Range: bytes=0-0\r\n"),
		"bad range":            get("GET", id, "Range: bytes=9999-\r\n"),
		"expect":               get("GET", id, "Expect: 100-continue\r\n"),
		"content-length":       get("GET", id, "Content-Length: 0\r\n"),
		"chunked body":         get("GET", id, "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n",
		"bad header name":      get("GET", id, "Bad Name: x\r\n"),
		"control in value":     get("GET", id, "X-A: a\x01b\r\n"),
		"obs-fold":             get("GET", id, "X-A: a\r\n b\r\n"),
		"long head":            get("GET", id, long),
		"not a ulid":           get("GET", strings.Repeat("U", 26)),
		"escaped id":           "GET /api/v1/get/%30" + id[1:] + " HTTP/1.1\r\nHost: x\r\n\r\n",
		"short id":             get("GET", id[:25]),
		"dot segment":          "GET /api/v1/get/../get/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n",
		"post":                 "POST /api/v1/get/" + id + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"absolute form":        "GET http://x/api/v1/get/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n",
		"unknown object":       get("GET", ulid.Make().String()),
		"large object":         get("GET", fx.big),
		"meta":                 "GET /api/v1/meta/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n",
		"lower-case method":    "get /api/v1/get/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n",
		"http/1.1 with spaces": "GET  /api/v1/get/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n",
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			before := fx.fp.Served()
			method, _, _ := strings.Cut(req, " ")
			c := dialRaw(t, fx.fast)
			c.send(req)
			fast := c.read(method)
			p := dialRaw(t, fx.plain)
			p.send(req)
			plain := p.read(method)
			if fast.status != plain.status || !bytes.Equal(fast.body, plain.body) || fast.close != plain.close {
				t.Errorf("fast path: %d close=%v %q; net/http: %d close=%v %q", fast.status, fast.close, trim(fast.body),
					plain.status, plain.close, trim(plain.body))
			}
			if got := fx.fp.Served() - before; got != 0 {
				t.Errorf("the fast path answered it")
			}
		})
	}
}

func trim(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// TestFastPathClose checks that closing the listener closes a connection
// waiting for its next request, and that Shutdown returns.
func TestFastPathClose(t *testing.T) {
	fx := newFastFixture(t)
	c := dialRaw(t, fx.fast)
	c.send(get("GET", fx.small))
	if a := c.read("GET"); a.status != 200 {
		t.Fatalf("status %d", a.status)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := fx.fp.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := c.r.ReadByte(); err != io.EOF {
		t.Errorf("idle connection after Shutdown: read %v, want EOF", err)
	}
	if _, err := net.DialTimeout("tcp", fx.fast.Listener.Addr().String(), time.Second); err == nil {
		t.Errorf("the listener still accepts after Shutdown")
	}
}

// boundaries is the fixture's API served twice with slow handlers, for
// objstoretest.CheckRequestBoundaries.
func (fx *fastFixture) boundaries(t *testing.T, api *Native) objstoretest.Boundaries {
	slowFast, fastEntered := objstoretest.Slow(api)
	fast, _ := objstoretest.ServeFast(t, struct {
		http.Handler
		fastpath.Answerer
	}{slowFast, api})
	slowPlain, plainEntered := objstoretest.Slow(api)
	plain := httptest.NewServer(slowPlain)
	t.Cleanup(plain.Close)
	return objstoretest.Boundaries{Fast: fast, Plain: plain, FastEntered: fastEntered, PlainEntered: plainEntered,
		Hot: get("GET", fx.small)}
}

// TestFastPathRequestBoundaries: bytes that net/http holds of the next
// request (a 4 KiB read that crossed into it, or a byte its background
// read took) are never followed by the fast path reading the rest of that
// request as a new one; the client gets exactly net/http's answers.
func TestFastPathRequestBoundaries(t *testing.T) {
	fx := newFastFixture(t)
	objstoretest.CheckRequestBoundaries(t, fx.boundaries(t, fx.api))
}

// TestFastPathHosts: a Host net/http refuses is refused with the fast
// path too.
func TestFastPathHosts(t *testing.T) {
	fx := newFastFixture(t)
	objstoretest.CheckHosts(t, fx.fast, fx.plain, get("GET", fx.small))
}
