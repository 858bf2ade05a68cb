package s3api

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=-1", "bytes=5-", "bytes=1-2,3-4", "bytes=9999999999999999999-", "bytes=-", "items=1-2", ""} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			return
		}
		r, ok, unsat := parseRange(header, size)
		if ok && (r.start < 0 || r.length <= 0 || r.start+r.length > size) {
			t.Fatalf("parseRange(%q, %d) = %+v: out of bounds", header, size, r)
		}
		if ok && unsat {
			t.Fatalf("parseRange(%q, %d): both a range and unsatisfiable", header, size)
		}
	})
}

func FuzzCopySource(f *testing.F) {
	for _, s := range []string{"/b/k", "b/k?versionId=null", "b/%C3%BC", "b", "/b/", "%zz", "b/k?versionId=3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		key, err := copySource(v)
		if err == nil && (key.Bucket == "" || key.ID == "") {
			t.Fatalf("copySource(%q) = %+v with no error", v, key)
		}
	})
}

// FuzzRequest sends arbitrary raw HTTP requests through the whole handler
// (anonymous writes on, so that the parsers behind the signature check are
// reached): it must never panic, and every answer must be a valid status.
func FuzzRequest(f *testing.F) {
	seeds := []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"PUT /bkt/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nx-amz-meta-a: b\r\n\r\nabc",
		"POST /bkt?delete HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n<Delete><Object><Key>k</Key></Object></Delete>",
		"POST /bkt/k?uploads HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /bkt/k?uploadId=zzz HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n<CompleteMultipartUpload></CompleteMultipartUpload>",
		"GET /bkt?list-type=2&max-keys=-1&continuation-token=%%% HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /bkt/k HTTP/1.1\r\nHost: x\r\nRange: bytes=-0\r\nIf-Match: *\r\n\r\n",
		"PUT /bkt/k2 HTTP/1.1\r\nHost: x\r\nx-amz-copy-source: /bkt/k\r\nx-amz-metadata-directive: REPLACE\r\n\r\n",
		"PUT /bkt/k?partNumber=0&uploadId=a HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /bkt/k HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/b/c/s3/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	e := newEnv(f, func(c *Config) { c.Anonymous = AnonymousWrite; c.MaxObjectSize = 1 << 20 })
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		r.Body = io.NopCloser(io.LimitReader(r.Body, 1<<16))
		w := httptest.NewRecorder()
		e.api.ServeHTTP(w, r.WithContext(t.Context()))
		if w.Code < 200 || w.Code > 599 {
			t.Fatalf("status %d", w.Code)
		}
		if w.Code >= 400 && r.Method != "HEAD" && !strings.Contains(w.Body.String(), "<Code>") {
			t.Fatalf("error %d without an S3 error document: %q", w.Code, w.Body.String())
		}
	})
}
