package fastpath

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func get(method, target string, extra ...string) string {
	return method + " " + target + " HTTP/1.1\r\nHost: objstore\r\n" + strings.Join(extra, "") + "\r\n"
}

func TestParse(t *testing.T) {
	tests := []struct {
		head        string
		ok          bool
		head2       bool
		path, query string
	}{
		{get("GET", "/a/b"), true, false, "/a/b", ""},
		{get("HEAD", "/a/b"), true, true, "/a/b", ""},
		{get("GET", "/a/b", "CONNECTION: Keep-Alive\r\n", "x-any: \t v \t\r\n"), true, false, "/a/b", ""},
		{get("GET", "/b/k?X-Amz-Credential=AKID%2F2026&a"), true, false, "/b/k", "X-Amz-Credential=AKID%2F2026&a"},
		{get("GET", "/sub-delims!$&'()*+,;=:@~"), true, false, "/sub-delims!$&'()*+,;=:@~", ""},
		{"GET / HTTP/1.1\r\nHost:\r\n\r\n", true, false, "/", ""},
		{get("PUT", "/a"), false, false, "", ""},
		{get("get", "/a"), false, false, "", ""},
		{get("GET", "/a%20b"), false, false, "", ""},
		{get("GET", "/a#f"), false, false, "", ""},
		{get("GET", "http://x/a"), false, false, "", ""},
		{get("GET", "*"), false, false, "", ""},
		{"GET /a HTTP/1.0\r\nHost: h\r\n\r\n", false, false, "", ""},
		{"GET  /a HTTP/1.1\r\nHost: h\r\n\r\n", false, false, "", ""},
		{"GET /a HTTP/1.1\r\n\r\n", false, false, "", ""},
		{"GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", false, false, "", ""},
		{"GET /a HTTP/1.1\r\nHost: a b\r\n\r\n", false, false, "", ""},
		{"GET /a HTTP/1.1\nHost: h\n\n", false, false, "", ""},
		{"GET /a HTTP/1.1\r\nHost: h\r\n: empty name\r\n\r\n", false, false, "", ""},
		{"GET /a HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", false, false, "", ""},
		{get("GET", "/a", "X-A: a\x01b\r\n"), false, false, "", ""},
		{get("GET", "/a", "Connection: close\r\n"), false, false, "", ""},
		{get("GET", "/a", "Connection: upgrade\r\n"), false, false, "", ""},
		{get("GET", "/a", "Content-Length: 0\r\n"), false, false, "", ""},
		{get("GET", "/a", "Transfer-Encoding: chunked\r\n"), false, false, "", ""},
		{get("GET", "/a", "Expect: 100-continue\r\n"), false, false, "", ""},
		{get("GET", "/a", "Upgrade: h2c\r\n"), false, false, "", ""},
		{get("GET", "/a", "Range: bytes=0-1\r\n"), false, false, "", ""},
		{get("GET", "/a", "If-None-Match: x\r\n"), false, false, "", ""},
		{get("GET", "/a", "If-Modified-Since: x\r\n"), false, false, "", ""},
		{get("GET", "/a", "If-Match: x\r\n"), false, false, "", ""},
		{get("GET", "/a", "If-Unmodified-Since: x\r\n"), false, false, "", ""},
		{get("GET", "/a", "If-Range: x\r\n"), false, false, "", ""},
	}
	for _, tt := range tests {
		var r Request
		ok := r.parse([]byte(tt.head))
		if ok != tt.ok || ok && (r.head != tt.head2 || string(r.Path()) != tt.path || string(r.RawQuery()) != tt.query) {
			t.Errorf("parse(%q) = %v: head=%v path=%q query=%q; want %v", tt.head, ok, r.head, r.Path(), r.RawQuery(), tt.ok)
		}
	}
}

// HTTPRequest gives what net/http would: canonical header names, trimmed
// and repeated values, Host moved out of the headers, the URL decoded.
func TestHTTPRequest(t *testing.T) {
	var r Request
	head := "GET /b/k?X-Amz-Date=20261127T000000Z&x=a%2Fb HTTP/1.1\r\nHost: s3.local:9000\r\n" +
		"x-amz-meta-a:  one \r\nX-AMZ-META-A: two\r\nuser-agent: t\r\n\r\n"
	if !r.parse([]byte(head)) {
		t.Fatal("parse failed")
	}
	if v, ok := r.Header("USER-AGENT"); !ok || string(v) != "t" {
		t.Errorf("Header: %q %v", v, ok)
	}
	hr, err := r.HTTPRequest()
	if err != nil {
		t.Fatal(err)
	}
	want := http.Header{"X-Amz-Meta-A": {"one", "two"}, "User-Agent": {"t"}}
	if hr.Method != "GET" || hr.Host != "s3.local:9000" || hr.URL.Path != "/b/k" || hr.URL.Query().Get("x") != "a/b" ||
		hr.RequestURI != "/b/k?X-Amz-Date=20261127T000000Z&x=a%2Fb" || !reflect.DeepEqual(hr.Header, want) {
		t.Errorf("HTTPRequest = %s %s host %q uri %q header %v", hr.Method, hr.URL, hr.Host, hr.RequestURI, hr.Header)
	}
}

// FuzzParse checks that parse never panics and accepts only GETs and
// HEADs over HTTP/1.1 with an origin-form target and a path free of
// escapes.
func FuzzParse(f *testing.F) {
	f.Add([]byte(get("GET", "/api/v1/get/01M8D4G34FHBDFY465800GFBF5")))
	f.Add([]byte(get("HEAD", "/b/k?X-Amz-Signature=00", "Range: x\r\n")))
	f.Add([]byte("GET /a HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\n"))
	f.Fuzz(func(t *testing.T, head []byte) {
		var r Request
		if !r.parse(head) {
			return
		}
		if !bytes.HasPrefix(head, []byte("GET /")) && !bytes.HasPrefix(head, []byte("HEAD /")) ||
			!bytes.Contains(head, []byte(" HTTP/1.1\r\n")) || bytes.ContainsAny(r.Path(), "%?# ") {
			t.Errorf("accepted %q", head)
		}
		if _, err := r.HTTPRequest(); err != nil {
			t.Errorf("accepted %q, which HTTPRequest refuses: %v", head, err)
		}
	})
}

// TestRequestID: the request's own X-Request-Id when valid, else a new
// one, the same on every call for one request and new for the next.
func TestRequestID(t *testing.T) {
	var r Request
	for _, tc := range []struct {
		head string
		want string // "" for a new one
	}{
		{"GET /a HTTP/1.1\r\nHost: h\r\nx-request-id: abc-1\r\n\r\n", "abc-1"},
		{"GET /a HTTP/1.1\r\nHost: h\r\nX-Request-Id: two words\r\n\r\n", ""},
		{"GET /a HTTP/1.1\r\nHost: h\r\n\r\n", ""},
	} {
		if !r.parse([]byte(tc.head)) {
			t.Fatalf("parse %q failed", tc.head)
		}
		id := string(r.ID())
		if again := string(r.ID()); again != id {
			t.Fatalf("ID changed within a request: %q then %q", id, again)
		}
		if tc.want != "" && id != tc.want {
			t.Errorf("%q: ID %q, want %q", tc.head, id, tc.want)
		}
		if tc.want == "" && len(id) != 16 {
			t.Errorf("%q: ID %q, want a new 16-digit one", tc.head, id)
		}
	}
}

// BenchmarkRequestID is what the fast path adds to a hot GET for its ID:
// a look for X-Request-Id among the header lines and a new ID.
func BenchmarkRequestID(b *testing.B) {
	head := []byte("GET /api/v1/get/01ARZ3NDEKTSV4RRFFQ69G5FAV HTTP/1.1\r\nHost: localhost:10999\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")
	var r Request
	if !r.parse(head) {
		b.Fatal("parse failed")
	}
	b.ReportAllocs()
	for b.Loop() {
		r.id = nil
		_ = r.ID()
	}
}

// BenchmarkParse is the parse the fast path does for every request, the
// yardstick for BenchmarkRequestID.
func BenchmarkParse(b *testing.B) {
	head := []byte("GET /api/v1/get/01ARZ3NDEKTSV4RRFFQ69G5FAV HTTP/1.1\r\nHost: localhost:10999\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")
	var r Request
	b.ReportAllocs()
	for b.Loop() {
		if !r.parse(head) {
			b.Fatal("parse failed")
		}
	}
}
