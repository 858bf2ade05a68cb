package sigv4_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"sphere.software/objstore/internal/sigv4"
)

const (
	testAccessKey = "AKIDOBJSTORETEST"
	testSecretKey = "s3cr3t/with+odd=chars"
	testRegion    = "us-east-1"
	unsigned      = "UNSIGNED-PAYLOAD"
)

var testTime = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// seen is what the test server's handler saw of the last request.
type seen struct {
	mu        sync.Mutex // guards the fields below
	accessKey string
	body      []byte
	trailer   http.Header
	length    int64
	mode      string // x-amz-content-sha256
}

func (s *seen) get() (string, []byte, http.Header, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accessKey, s.body, s.trailer, s.length
}

// server runs v behind a real HTTP server: it answers 200 with the body it
// read, or the S3 code and status of the error from Verify or from reading.
type server struct {
	*httptest.Server
	clock atomic.Int64 // unix nanoseconds the verifier sees
	seen  seen
	quiet bool // answer 200 with no body, as S3 clients expect
}

func newServer(tb testing.TB, tls bool, realClock bool) *server {
	tb.Helper()
	s := &server{}
	s.clock.Store(testTime.UnixNano())
	now := func() time.Time { return time.Unix(0, s.clock.Load()).UTC() }
	if realClock {
		now = nil
	}
	v := sigv4.NewVerifier([]sigv4.Credentials{{AccessKey: testAccessKey, SecretKey: testSecretKey}}, testRegion, now)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.handle(v, w, r) })
	if tls {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	tb.Cleanup(s.Close)
	return s
}

func (s *server) handle(v *sigv4.Verifier, w http.ResponseWriter, r *http.Request) {
	ak, err := v.Verify(r)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(r.Body)
	}
	if err != nil {
		code, status := sigv4.Code(err)
		w.Header().Set("X-Error", err.Error())
		w.WriteHeader(status)
		_, _ = io.WriteString(w, code) // the client reads it or the test fails
		return
	}
	s.seen.mu.Lock()
	s.seen.accessKey, s.seen.body, s.seen.trailer, s.seen.length = ak, body, r.Trailer.Clone(), r.ContentLength
	s.seen.mode = r.Header.Get("X-Amz-Content-Sha256")
	s.seen.mu.Unlock()
	if !s.quiet {
		_, _ = w.Write(body) // as above
	}
}

// do sends r and returns the status and the response body (the error code,
// or the echoed payload).
func (s *server) do(tb testing.TB, r *http.Request) (int, string) {
	tb.Helper()
	resp, err := s.Client().Do(r)
	if err != nil {
		tb.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Logf("%s %s: %d %s (%s)", r.Method, r.URL, resp.StatusCode, b, resp.Header.Get("X-Error"))
	}
	return resp.StatusCode, string(b)
}

// escapeKey escapes an object key as the S3 SDKs put it in the path: every
// byte but the unreserved characters and '/' as %XX.
func escapeKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// newRequest builds a request to path (already escaped) and query on s.
func (s *server) newRequest(tb testing.TB, method, path, query, body string) *http.Request {
	tb.Helper()
	u := s.URL + path
	if query != "" {
		u += "?" + query
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, u, rd)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// s3Signer returns a signer that signs like the S3 client does: the path
// escaped once, as sent. Each call gets a new one: the signer caches derived
// keys by access key, which would hide a wrong secret.
func s3Signer() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

// sign signs r's headers with aws-sdk-go-v2's signer.
func sign(tb testing.TB, r *http.Request, payloadHash, accessKey, secret string, at time.Time) {
	tb.Helper()
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secret}
	if err := s3Signer().SignHTTP(context.Background(), creds, r, payloadHash, "s3", testRegion, at); err != nil {
		tb.Fatal(err)
	}
}

// presign returns a copy of r presigned for expires with the SDK's signer.
func presign(tb testing.TB, r *http.Request, expires string, at time.Time) *http.Request {
	tb.Helper()
	q := r.URL.Query()
	q.Set("X-Amz-Expires", expires)
	r.URL.RawQuery = q.Encode()
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}
	u, headers, err := s3Signer().PresignHTTP(context.Background(), creds, r, unsigned, "s3", testRegion, at)
	if err != nil {
		tb.Fatal(err)
	}
	pr, err := http.NewRequest(r.Method, u, r.Body)
	if err != nil {
		tb.Fatal(err)
	}
	pr.ContentLength = r.ContentLength // the signed content-length
	for k, vs := range headers {
		if k != "Host" {
			pr.Header[k] = vs
		}
	}
	return pr
}
