package peerapi

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore/internal/clusterkey"
)

var (
	testKey = apiKey("k1", "t")
	testNow = time.UnixMilli(1_750_000_000_000)
)

// signed returns a request signed by node-a with testKey at testNow, as the
// server would receive it.
func signed(t testing.TB, method, target, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://peer"+target, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := signAt(req, "node-a", testKey, testNow); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSignVerify(t *testing.T) {
	tests := []struct {
		name   string
		req    func(t *testing.T) *http.Request
		key    []byte
		now    time.Time
		err    error  // nil: valid
		reason string // in the error
	}{
		{name: "get", req: func(t *testing.T) *http.Request { return signed(t, "GET", "/private/v1/x?a=1&b=2", "") }},
		{name: "post", req: func(t *testing.T) *http.Request { return signed(t, "POST", "/private/v1/push", "records") }},
		{name: "escaped path", req: func(t *testing.T) *http.Request { return signed(t, "GET", "/private/v1/a%2Fb%20c", "") }},
		{name: "clock skew within bound", now: testNow.Add(MaxClockSkew - time.Second),
			req: func(t *testing.T) *http.Request { return signed(t, "GET", "/p", "") }},
		{name: "wrong key", key: apiKey("k2", "t"), err: ErrUnauthorized, reason: "bad signature",
			req: func(t *testing.T) *http.Request { return signed(t, "GET", "/p", "") }},
		{name: "tampered method", err: ErrUnauthorized, reason: "bad signature", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p", "")
			r.Method = "DELETE"
			return r
		}},
		{name: "tampered path", err: ErrUnauthorized, reason: "bad signature", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/private/v1/a", "")
			r.URL.Path = "/private/v1/b"
			return r
		}},
		{name: "tampered query", err: ErrUnauthorized, reason: "bad signature", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p?a=1", "")
			r.URL.RawQuery = "a=2"
			return r
		}},
		{name: "query moved into path", err: ErrUnauthorized, reason: "bad signature", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p?a", "")
			r.URL.Path, r.URL.RawQuery = "/p%3Fa", ""
			r.URL.RawPath = "/p%3Fa"
			return r
		}},
		{name: "tampered body", err: ErrUnauthorized, reason: "body does not match", req: func(t *testing.T) *http.Request {
			r := signed(t, "POST", "/p", "records")
			r.Body = io.NopCloser(strings.NewReader("recordz"))
			return r
		}},
		{name: "tampered body hash", err: ErrUnauthorized, reason: "bad signature", req: func(t *testing.T) *http.Request {
			r := signed(t, "POST", "/p", "records")
			r.Header.Set(HeaderContentSHA256, strings.Repeat("0", 64))
			return r
		}},
		{name: "body added to unsigned payload", err: ErrUnauthorized, reason: "a body with", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p", "")
			r.Body = io.NopCloser(strings.NewReader("x"))
			return r
		}},
		{name: "tampered date", err: ErrUnauthorized, reason: "bad signature", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p", "")
			r.Header.Set(HeaderDate, strconv.FormatInt(testNow.UnixMilli()+1, 10))
			return r
		}},
		{name: "tampered nonce", err: ErrUnauthorized, reason: "bad signature", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p", "")
			r.Header.Set(HeaderNonce, strings.Repeat("0", 2*nonceSize))
			return r
		}},
		{name: "nonce malformed", err: ErrUnauthorized, reason: "not 32 hex digits", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p", "")
			r.Header.Set(HeaderNonce, "abc")
			return r
		}},
		{name: "tampered node", err: ErrUnauthorized, reason: "bad signature", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p", "")
			r.Header.Set(HeaderNode, "node-b")
			return r
		}},
		{name: "expired", now: testNow.Add(MaxClockSkew + time.Second), err: ErrUnauthorized, reason: "from this node's clock",
			req: func(t *testing.T) *http.Request { return signed(t, "GET", "/p", "") }},
		{name: "future", now: testNow.Add(-MaxClockSkew - time.Second), err: ErrUnauthorized, reason: "from this node's clock",
			req: func(t *testing.T) *http.Request { return signed(t, "GET", "/p", "") }},
		{name: "date not a number", err: ErrUnauthorized, reason: "not Unix milliseconds", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p", "")
			r.Header.Set(HeaderDate, "yesterday")
			return r
		}},
		{name: "authorization malformed", err: ErrUnauthorized, reason: "Authorization is not", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p", "")
			r.Header.Set(HeaderAuthorization, "Bearer x")
			return r
		}},
		{name: "body hash malformed", err: ErrUnauthorized, reason: "neither 64 hex digits", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p", "")
			r.Header.Set(HeaderContentSHA256, "abc")
			return r
		}},
		{name: "duplicate node header", err: ErrUnauthorized, reason: "exactly one", req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p", "")
			r.Header.Add(HeaderNode, "node-b")
			return r
		}},
		{name: "too large", err: ErrTooLarge, req: func(t *testing.T) *http.Request {
			r := signed(t, "POST", "/p", "records")
			r.ContentLength = MaxBodySize + 1
			return r
		}},
	}
	for _, h := range []string{HeaderNode, HeaderDate, HeaderNonce, HeaderContentSHA256, HeaderAuthorization} {
		tests = append(tests, struct {
			name   string
			req    func(t *testing.T) *http.Request
			key    []byte
			now    time.Time
			err    error
			reason string
		}{name: "missing " + h, err: ErrUnauthorized, reason: "want exactly one " + h, req: func(t *testing.T) *http.Request {
			r := signed(t, "GET", "/p", "")
			r.Header.Del(h)
			return r
		}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, now := tt.key, tt.now
			if key == nil {
				key = testKey
			}
			if now.IsZero() {
				now = testNow
			}
			err := Verify(tt.req(t), key, now)
			if tt.err == nil && err != nil {
				t.Fatalf("Verify: %v, want success", err)
			}
			if tt.err != nil && (!errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.reason)) {
				t.Fatalf("Verify: %v, want %v with %q", err, tt.err, tt.reason)
			}
		})
	}
}

// TestVerifyKeepsBody checks that the handler reads the verified body.
func TestVerifyKeepsBody(t *testing.T) {
	r := signed(t, "POST", "/p", "records")
	if err := Verify(r, testKey, testNow); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil || string(b) != "records" || r.ContentLength != 7 {
		t.Errorf("body after Verify: %q %v (length %d)", b, err, r.ContentLength)
	}
}

// TestSignReplayableBody checks that Sign leaves a body the transport can
// send again (GetBody) and the right length.
func TestSignReplayableBody(t *testing.T) {
	r := signed(t, "POST", "/p", "records")
	if r.ContentLength != 7 || r.GetBody == nil {
		t.Fatalf("ContentLength %d, GetBody %v", r.ContentLength, r.GetBody != nil)
	}
	for range 2 {
		rc, _ := r.GetBody()
		if b, _ := io.ReadAll(rc); string(b) != "records" {
			t.Errorf("GetBody gave %q", b)
		}
	}
}

func TestAuthenticateMiddleware(t *testing.T) {
	h := authenticate(testKey, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}), slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	defer srv.Close()

	client := NewHTTPClient(HTTPConfig{NodeID: "node-a", ClusterKey: "k1", Tag: "t"})
	if status, body := get(t, client, srv.URL+"/private/v1/x"); status != 200 || body != "ok" {
		t.Errorf("signed: %d %q", status, body)
	}
	wrong := NewHTTPClient(HTTPConfig{NodeID: "node-a", ClusterKey: "k2", Tag: "t"})
	if status, body := get(t, wrong, srv.URL+"/private/v1/x"); status != 401 || !strings.Contains(body, "bad signature") {
		t.Errorf("signed with another key: %d %q, want 401 bad signature", status, body)
	}
	status, body := get(t, &http.Client{}, srv.URL+"/private/v1/x")
	if status != 401 || body != "error: unauthorized: want exactly one X-Objstore-Node header\n" {
		t.Errorf("unsigned: %d %q", status, body)
	}

	req, _ := http.NewRequest("POST", srv.URL+"/p", strings.NewReader("x"))
	req.ContentLength = MaxBodySize + 1
	if err := signAt(req, "node-a", testKey, time.Now()); err != nil {
		t.Fatal(err)
	}
	req.ContentLength = MaxBodySize + 1 // lie about the size: 413 before reading
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("declared too large: %d", rec.Code)
	}
}

func FuzzVerify(f *testing.F) {
	valid := signed(f, "POST", "/private/v1/push?x=1", "records")
	f.Add("POST", "/private/v1/push?x=1", valid.Header.Get(HeaderNode), valid.Header.Get(HeaderDate), valid.Header.Get(HeaderNonce),
		valid.Header.Get(HeaderContentSHA256), valid.Header.Get(HeaderAuthorization), []byte("records"), int64(0))
	get := signed(f, "GET", "/p", "")
	f.Add("GET", "/p", get.Header.Get(HeaderNode), get.Header.Get(HeaderDate), get.Header.Get(HeaderNonce),
		get.Header.Get(HeaderContentSHA256), get.Header.Get(HeaderAuthorization), []byte(nil), int64(-1))
	f.Add("GET", "/%zz", "", "-9223372036854775808", "zz", UnsignedPayload, AuthScheme+" ", []byte("x"), int64(1<<62))
	f.Fuzz(func(t *testing.T, method, target, node, date, nonce, sum, auth string, body []byte, length int64) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := &http.Request{Method: method, URL: u, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(string(body))), ContentLength: length}
		for k, v := range map[string]string{HeaderNode: node, HeaderDate: date, HeaderNonce: nonce, HeaderContentSHA256: sum, HeaderAuthorization: auth} {
			r.Header[k] = []string{v}
		}
		err = Verify(r, testKey, testNow)
		if err != nil {
			if !errors.Is(err, ErrUnauthorized) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Verify: %v wraps neither sentinel", err)
			}
			return
		}
		got, _ := io.ReadAll(r.Body)
		if sum == UnsignedPayload && len(got) != 0 || sum != UnsignedPayload && string(got) != string(body) {
			t.Fatalf("verified body %q, sent %q with hash %s", got, body, sum)
		}
	})
}

// TestStreamingPayload checks that a request asking for a streamed body is
// signed without hashing it, that its body reaches the handler untouched,
// and that the streaming form is refused outside the forwarding prefix.
func TestStreamingPayload(t *testing.T) {
	stream := func(t *testing.T, target string) *http.Request {
		req, err := http.NewRequest("PUT", "http://peer"+target, strings.NewReader("a large part"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(HeaderStreaming, "1")
		if err := signAt(req, "node-a", testKey, testNow); err != nil {
			t.Fatal(err)
		}
		return req
	}
	r := stream(t, StreamingPathPrefix+"bkt/key?uploadId=x")
	if r.Header.Get(HeaderContentSHA256) != StreamingPayload || r.Header.Get(HeaderStreaming) != "" {
		t.Fatalf("streaming request headers %v", r.Header)
	}
	if err := Verify(r, testKey, testNow); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != "a large part" {
		t.Fatalf("body %q", b)
	}
	if err := Verify(stream(t, "/private/v1/push"), testKey, testNow); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("a streamed body outside %s: %v, want ErrUnauthorized", StreamingPathPrefix, err)
	}
	tampered := stream(t, StreamingPathPrefix+"x")
	tampered.Header.Set(HeaderContentSHA256, UnsignedPayload)
	if err := Verify(tampered, testKey, testNow); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("a streaming request relabelled: %v, want ErrUnauthorized", err)
	}
}

// TestAuthenticateWithoutKey checks that no cluster key means no checks.
func TestAuthenticateWithoutKey(t *testing.T) {
	next := http.NotFoundHandler()
	if h := Authenticate("", "t", "node-b", next, nil); reflect.ValueOf(h).Pointer() != reflect.ValueOf(next).Pointer() {
		t.Error("Authenticate without a key wrapped the handler")
	}
}

func TestKeysDiffer(t *testing.T) {
	if apiKey("", "t") != nil {
		t.Error("key derived from no key")
	}
	gossip := clusterkey.Derive("k", "t", clusterkey.Gossip) // internal/cluster's derivation
	a := apiKey("k", "t")
	if len(a) != 32 || string(a) == string(gossip) || string(a) == string(apiKey("k2", "t")) ||
		string(a) == string(apiKey("k", "t2")) || string(a) == string(CredentialsKey("k", "t")) {
		t.Error("the API key must be 32 bytes, depend on the cluster key and tag and differ from the gossip and credentials keys")
	}
}

// TestHTTPClientSourceIP checks that requests leave from SourceIP.
func TestHTTPClientSourceIP(t *testing.T) {
	remote := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { remote <- r.RemoteAddr }))
	defer srv.Close()
	hc := NewHTTPClient(HTTPConfig{NodeID: "n", SourceIP: net.ParseIP("127.0.0.11")})
	defer hc.CloseIdleConnections()
	if status, _ := get(t, hc, srv.URL+"/private/v1/x"); status != http.StatusOK {
		t.Fatalf("GET: %d", status)
	}
	if host, _, _ := net.SplitHostPort(<-remote); host != "127.0.0.11" {
		t.Errorf("request from %s, want 127.0.0.11", host)
	}
}

// get sends GET url with client and returns the status and body.
func get(tb testing.TB, client *http.Client, url string) (int, string) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}
