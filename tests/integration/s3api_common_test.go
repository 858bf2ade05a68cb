package integration

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// s3Region is the region every test node's S3 API signs for.
const s3Region = "us-east-1"

// s3Endpoint is the URL of n's S3 API.
func (n *Node) s3Endpoint() string { return n.scheme() + n.S3Addr }

// s3URL is the URL of path (which starts with a slash) on n's S3 API.
func (n *Node) s3URL(path string) string { return n.s3Endpoint() + path }

// sdkClient returns an aws-sdk-go-v2 S3 client for the S3 API at endpoint
// with the test credentials, path-style, with the SDK's default checksum
// behaviour (a checksum on every upload that supports one).
func sdkClient(endpoint string, opts ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:       s3Region,
		Credentials:  credentials.NewStaticCredentialsProvider(TestAccessKey, TestSecretKey, ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
	}, opts...)
}

// withHeader is an s3 option that adds a header to every request, before
// it is signed: for objstore's own X-Meta-ConsistencyLevel.
func withHeader(name, value string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(name, value))
	}
}

// testCtx is a context that ends with the test or after d, whichever is
// first: every request of a test is bounded by it.
func testCtx(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// s3ErrorDoc is an S3 XML error body.
type s3ErrorDoc struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
}

// errorCode is the <Code> of an S3 error body, or a description of why
// there is none.
func errorCode(body []byte) string {
	var e s3ErrorDoc
	if err := xml.Unmarshal(body, &e); err != nil {
		return fmt.Sprintf("(no S3 error document: %v)", err)
	}
	return e.Code
}

// wantS3Error checks that r is an S3 error with the status and code.
func wantS3Error(t testing.TB, r *response, status int, code, what string) {
	t.Helper()
	if r.Status != status || errorCode(r.Body) != code {
		t.Errorf("%s: got %s (code %s), want %d %s", what, r, errorCode(r.Body), status, code)
	}
}

// s3Creds are credentials for the v4 signer.
func s3Creds(access, secret string) aws.Credentials {
	return aws.Credentials{AccessKeyID: access, SecretAccessKey: secret}
}

// testCreds are the credentials every test node accepts.
var testCreds = s3Creds(TestAccessKey, TestSecretKey)

// payloadHash is the hex SHA-256 of body, as x-amz-content-sha256 carries it.
func payloadHash(body []byte) string {
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:])
}

// newS3Request builds a request for url with body and the header pairs
// hdr, with x-amz-content-sha256 set to the body's real hash; it is not
// signed yet.
func newS3Request(ctx context.Context, t testing.TB, method, url string, body []byte, hdr ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if len(hdr)%2 != 0 {
		t.Fatalf("odd header list %q", hdr)
	}
	for i := 0; i < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash(body))
	return req
}

// signAt signs req with SigV4 for s3 in s3Region as if at time at.
func signAt(ctx context.Context, t testing.TB, req *http.Request, creds aws.Credentials, at time.Time) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, req.Header.Get("X-Amz-Content-Sha256"), "s3", s3Region, at); err != nil {
		t.Fatalf("sign %s %s: %v", req.Method, req.URL, err)
	}
}

// s3Do sends a request to n's S3 API signed with the test credentials now.
func (n *Node) s3Do(ctx context.Context, t testing.TB, method, path string, body []byte, hdr ...string) *response {
	t.Helper()
	req := newS3Request(ctx, t, method, n.s3URL(path), body, hdr...)
	signAt(ctx, t, req, testCreds, time.Now())
	return n.mustSend(t, req)
}

// mustSend is send that fails the test on a transport error.
func (n *Node) mustSend(t testing.TB, req *http.Request) *response {
	t.Helper()
	r, err := n.send(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return r
}

// md5Hex is the hex MD5 of b: an ETag without its quotes.
func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// fetchPresigned GETs a presigned URL with plain net/http and checks that
// it answers 200 with want.
func fetchPresigned(ctx context.Context, t testing.TB, rawURL string, want []byte) {
	t.Helper()
	if u, err := url.Parse(rawURL); err != nil || u.Scheme != "http" {
		t.Errorf("presigned URL %q: not an http URL (%v)", rawURL, err)
		return
	}
	r := getURL(ctx, t, rawURL)
	switch {
	case r.Status != http.StatusOK:
		t.Errorf("presigned GET %s: %s, want 200", rawURL, r)
	case sum(r.Body) != sum(want):
		t.Errorf("presigned GET %s: %d bytes sha256 %.12s, want %d bytes sha256 %.12s", rawURL, len(r.Body), sum(r.Body), len(want), sum(want))
	}
}

// getURL GETs a URL with plain net/http and reads the whole response.
func getURL(ctx context.Context, t testing.TB, rawURL string) *response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only body, fully read below
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", rawURL, err)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// s3Op is one request an S3 client sent, as the recording proxy saw it.
type s3Op struct {
	Method string
	Path   string // decoded: /bucket/key
	Query  url.Values
	Status int
}

// has reports whether the op's query names the parameter.
func (o s3Op) has(param string) bool { _, ok := o.Query[param]; return ok }

func (o s3Op) String() string {
	return fmt.Sprintf("%s %s?%s → %d", o.Method, o.Path, o.Query.Encode(), o.Status)
}

// opProxy is a reverse proxy in front of a node's S3 API that records
// every request, so that a test can check what a client really sent
// (multipart uploads, pages, batch deletes). It keeps the Host header the
// client signed.
type opProxy struct {
	URL string // http://127.0.0.1:PORT

	mu  sync.Mutex // guards ops
	ops []s3Op
}

// startOpProxy starts a recording proxy to target on a loopback port; it
// stops when the test ends.
func startOpProxy(t testing.TB, target string) *opProxy {
	t.Helper()
	to, err := url.Parse(target)
	if err != nil {
		t.Fatalf("proxy target %q: %v", target, err)
	}
	p := &opProxy{}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableCompression = true
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(to)
			r.Out.Host = r.In.Host
		},
		Transport: tr,
		ModifyResponse: func(resp *http.Response) error {
			p.record(resp.Request, resp.StatusCode)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.record(r, http.StatusBadGateway)
			http.Error(w, "test proxy: "+err.Error(), http.StatusBadGateway)
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.ServeHTTP(lowerMetaWriter{w}, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	p.URL = srv.URL
	return p
}

// lowerMetaWriter sends x-amz-meta-* response headers in lower case, as
// the node does: ReverseProxy copies headers with Header.Add, which would
// canonicalise them ("X-Amz-Meta-Color"), and botocore keeps the case it
// receives.
type lowerMetaWriter struct{ http.ResponseWriter }

func (w lowerMetaWriter) WriteHeader(code int) {
	h := w.Header()
	for k, v := range h {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-meta-") && lk != k {
			delete(h, k)
			h[lk] = v
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w lowerMetaWriter) Write(b []byte) (int, error) { return w.ResponseWriter.Write(b) }

// Unwrap lets http.ResponseController reach the real writer (Flush).
func (w lowerMetaWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (p *opProxy) record(r *http.Request, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ops = append(p.ops, s3Op{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Status: status})
}

// take returns the ops recorded since the last take and forgets them.
func (p *opProxy) take() []s3Op {
	p.mu.Lock()
	defer p.mu.Unlock()
	ops := p.ops
	p.ops = nil
	return ops
}

// countOps counts the ops for which match is true.
func countOps(ops []s3Op, match func(s3Op) bool) int {
	n := 0
	for _, o := range ops {
		if match(o) {
			n++
		}
	}
	return n
}

// describeOps lists ops one a line, for a failure message.
func describeOps(ops []s3Op) string {
	var b strings.Builder
	for _, o := range ops {
		b.WriteString("\n\t" + o.String())
	}
	return b.String()
}

// isNotFound reports whether err is an S3 404 (NoSuchKey, NotFound, or
// NoSuchBucket) from the SDK.
func isNotFound(err error) bool {
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}
