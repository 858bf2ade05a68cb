package sigv4_test

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore/internal/sigv4"
)

// TestVerifyHead: on the very bytes of a request head, VerifyHead proves
// authentic the plain signed GETs and HEADs that Verify accepts (on what
// net/http parses of those bytes), with the same access key, and never one
// that Verify refuses: tampered headers, query or path, unsigned x-amz
// headers, a wrong secret or access key, a skewed clock, an expired or not
// yet valid presigned URL, a wrong region, repeated parameters.
func TestVerifyHead(t *testing.T) {
	s := newServer(t, false, false) // only for its URL and requests
	get := func(path, query string) *http.Request { return s.newRequest(t, http.MethodGet, path, query, "") }
	signed := func(r *http.Request, hash string) *http.Request {
		sign(t, r, hash, testAccessKey, testSecretKey, testTime)
		return r
	}
	signedWith := func(r *http.Request, access, secret string) *http.Request {
		sign(t, r, unsigned, access, secret, testTime)
		return r
	}
	presigned := func(r *http.Request, expires string) *http.Request { return presign(t, r, expires, testTime) }
	withHeader := func(r *http.Request, k, v string) *http.Request {
		r.Header.Set(k, v)
		return r
	}
	head := s.newRequest(t, http.MethodHead, "/bucket/key", "", "")
	meta := withHeader(get("/bucket/key", ""), "X-Amz-Meta-Spaces", "  a   b  c  ")
	meta.Header.Add("X-Amz-Meta-Spaces", "two")
	tests := []struct {
		name   string
		r      *http.Request
		clock  time.Duration // the server's clock after testTime
		mutate func(wire string) string
		valid  bool // Verify accepts it
		fast   bool // VerifyHead proves it
	}{
		{name: "header signed, empty payload", r: signed(get("/bucket/key", ""), sha256Hex("")), valid: true, fast: true},
		{name: "header signed, unsigned payload", r: signed(get("/bucket/dir/key.txt", ""), unsigned), valid: true, fast: true},
		{name: "header signed HEAD", r: signed(head, unsigned), valid: true, fast: true},
		{name: "query sorted, '+', empty values", r: signed(get("/bucket", "prefix=a+b%2Fc&list-type=2&marker=&x=2&x=1&acl"), unsigned), valid: true, fast: true},
		{name: "headers trimmed and joined", r: signed(meta, unsigned), valid: true, fast: true},
		{name: "sub-delims in the path", r: signed(get("/bucket/a!$&'()*+,;=:@b", ""), unsigned), valid: true, fast: true},
		{name: "escaped path", r: signed(get("/bucket/with%20space", ""), unsigned), valid: true, fast: false},
		{name: "skew allowed", r: signed(get("/bucket/key", ""), unsigned), clock: 14 * time.Minute, valid: true, fast: true},
		{name: "presigned", r: presigned(get("/bucket/key", "versionId="), "900"), valid: true, fast: true},
		{name: "presigned HEAD", r: presigned(s.newRequest(t, http.MethodHead, "/bucket/key", "x-id=GetObject", ""), "60"), valid: true, fast: true},
		{name: "presigned just before expiry", r: presigned(get("/bucket/key", ""), "60"), clock: time.Minute, valid: true, fast: true},

		{name: "tampered header", r: signed(withHeader(get("/bucket/key", ""), "X-Amz-Meta-A", "1"), unsigned),
			mutate: func(w string) string { return strings.Replace(w, "X-Amz-Meta-A: 1", "X-Amz-Meta-A: 2", 1) }},
		{name: "unsigned x-amz header", r: signed(get("/bucket/key", ""), unsigned),
			mutate: func(w string) string { return strings.Replace(w, "\r\n\r\n", "\r\nX-Amz-Meta-B: 1\r\n\r\n", 1) }},
		{name: "tampered query", r: signed(get("/bucket", "prefix=a"), unsigned),
			mutate: func(w string) string { return strings.Replace(w, "prefix=a", "prefix=b", 1) }},
		{name: "tampered path", r: signed(get("/bucket/key", ""), unsigned),
			mutate: func(w string) string { return strings.Replace(w, "/bucket/key", "/bucket/kez", 1) }},
		{name: "tampered host", r: signed(get("/bucket/key", ""), unsigned),
			mutate: func(w string) string { return strings.Replace(w, "Host: 127.0.0.1", "Host: 127.0.0.2", 1) }},
		{name: "tampered presigned query", r: presigned(get("/bucket/key", "versionId=1"), "60"),
			mutate: func(w string) string { return strings.Replace(w, "versionId=1", "versionId=2", 1) }},
		{name: "presigned expiry extended", r: presigned(get("/bucket/key", ""), "60"),
			mutate: func(w string) string { return strings.Replace(w, "X-Amz-Expires=60", "X-Amz-Expires=600", 1) }},
		{name: "presigned signature repeated", r: presigned(get("/bucket/key", ""), "60"),
			mutate: func(w string) string {
				return strings.Replace(w, " HTTP/1.1", "&X-Amz-Signature="+strings.Repeat("0", 64)+" HTTP/1.1", 1)
			}},
		{name: "wrong secret", r: signedWith(get("/bucket/key", ""), testAccessKey, "not-the-secret")},
		{name: "unknown access key", r: signedWith(get("/bucket/key", ""), "AKIDUNKNOWN", testSecretKey)},
		{name: "skewed clock", r: signed(get("/bucket/key", ""), unsigned), clock: 16 * time.Minute},
		{name: "presigned expired", r: presigned(get("/bucket/key", ""), "60"), clock: 61 * time.Second},
		{name: "presigned not yet valid", r: presigned(get("/bucket/key", ""), "900"), clock: -16 * time.Minute},
		{name: "header and query signed", r: signed(presigned(get("/bucket/key", ""), "60"), unsigned)},
		{name: "bad query escape", r: signed(get("/bucket/key", ""), unsigned),
			mutate: func(w string) string { return strings.Replace(w, " HTTP/1.1", "?a=%zz HTTP/1.1", 1) }},
		{name: "streaming payload", r: signed(get("/bucket/key", ""), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), valid: true, fast: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var wire bytes.Buffer
			if err := tc.r.Write(&wire); err != nil {
				t.Fatal(err)
			}
			w := wire.String()
			if tc.mutate != nil {
				if w2 := tc.mutate(w); w2 != w {
					w = w2
				} else {
					t.Fatalf("the mutation changed nothing in %q", w)
				}
			}
			now := testTime.Add(tc.clock)
			v := sigv4.NewVerifier([]sigv4.Credentials{{AccessKey: testAccessKey, SecretKey: testSecretKey}}, testRegion,
				func() time.Time { return now })

			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(w)))
			if err != nil {
				t.Fatal(err)
			}
			slowKey, slowErr := v.Verify(r)
			fastKey, fastOK := v.VerifyHead(rawHead(t, w))
			if (slowErr == nil) != tc.valid {
				t.Errorf("Verify: %v, want valid %v", slowErr, tc.valid)
			}
			if fastOK != tc.fast {
				t.Errorf("VerifyHead: %v, want %v", fastOK, tc.fast)
			}
			if fastOK && (slowErr != nil || fastKey != slowKey) {
				t.Errorf("VerifyHead proved %q, Verify says %q, %v", fastKey, slowKey, slowErr)
			}
		})
	}
}

// rawHead splits a request head as a server reading the wire would.
func rawHead(t testing.TB, wire string) *sigv4.Head {
	t.Helper()
	head, _, _ := strings.Cut(wire, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	method, rest, _ := strings.Cut(lines[0], " ")
	target, _, _ := strings.Cut(rest, " ")
	path, query, _ := strings.Cut(target, "?")
	h := &sigv4.Head{Method: method, Path: []byte(path), RawQuery: []byte(query)}
	for _, line := range lines[1:] {
		k, v, _ := strings.Cut(line, ":")
		if strings.EqualFold(k, "Host") {
			h.Host = []byte(strings.TrimSpace(v))
		}
		h.Lines = append(h.Lines, []byte(line))
	}
	if h.Host == nil {
		t.Fatalf("no Host in %q", wire)
	}
	return h
}

// BenchmarkVerifyHead is the cost of proving a presigned GET authentic.
func BenchmarkVerifyHead(b *testing.B) {
	s := newServer(b, false, false)
	r := presign(b, s.newRequest(b, http.MethodGet, "/bucket/some/key.bin", "x-id=GetObject", ""), "900", testTime)
	var wire bytes.Buffer
	if err := r.Write(&wire); err != nil {
		b.Fatal(err)
	}
	h := rawHead(b, wire.String())
	v := sigv4.NewVerifier([]sigv4.Credentials{{AccessKey: testAccessKey, SecretKey: testSecretKey}}, testRegion,
		func() time.Time { return testTime })
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := v.VerifyHead(h); !ok {
			b.Fatal("not proved")
		}
	}
}
