package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/oklog/ulid/v2"

	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/sigv4"
)

const (
	authAccessKey = "AKIDNATIVETEST"
	authSecretKey = "native/secret+key"
	authToken     = "a-bearer-token-of-32-characters!"
)

// authServer is a node's native API that requires authentication, served
// through the fast path, with a hot cache.
type authServer struct {
	srv *httptest.Server
	fp  *fastpath.Server
}

func newAuthServer(t *testing.T, token string) *authServer {
	t.Helper()
	v := sigv4.NewVerifier([]sigv4.Credentials{{AccessKey: authAccessKey, SecretKey: authSecretKey}}, "", nil)
	auth, err := NewAuth(v, token)
	if err != nil {
		t.Fatal(err)
	}
	n := newNode(t, node.Config{HotCacheBytes: 16 << 20})
	srv, fp := serveFast(t, NewNative(Config{Bucket: "bkt", Version: "test", Auth: auth}, n))
	return &authServer{srv: srv, fp: fp}
}

// authRequest is one request to the native API and how to authenticate it.
type authRequest struct {
	method, path string
	body         string
	header       map[string]string
	secret       string        // signs with this secret; "" leaves the request unsigned
	age          time.Duration // signs this long ago
	payloadHash  string        // signed x-amz-content-sha256; "" is the body's
}

func (s *authServer) do(t *testing.T, ar authRequest) (*http.Response, string) {
	t.Helper()
	r, err := http.NewRequest(ar.method, s.srv.URL+ar.path, strings.NewReader(ar.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range ar.header {
		r.Header.Set(k, v)
	}
	if ar.secret != "" {
		signNative(t, r, ar.body, ar.payloadHash, ar.secret, time.Now().Add(-ar.age))
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// signNative signs r as an S3 client signs for service s3, as a user of
// the native API would with aws-sdk-go-v2's signer.
func signNative(t *testing.T, r *http.Request, body, payloadHash, secret string, at time.Time) {
	t.Helper()
	if payloadHash == "" {
		sum := sha256.Sum256([]byte(body))
		payloadHash = hex.EncodeToString(sum[:])
	}
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	creds := aws.Credentials{AccessKeyID: authAccessKey, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, payloadHash, "s3", sigv4.DefaultRegion, at); err != nil {
		t.Fatal(err)
	}
}

// presign returns a presigned URL for GET path, valid for expires from at.
func (s *authServer) presign(t *testing.T, path string, at time.Time, expires time.Duration) string {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := r.URL.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires.Seconds())))
	r.URL.RawQuery = q.Encode()
	creds := aws.Credentials{AccessKeyID: authAccessKey, SecretAccessKey: authSecretKey}
	u, _, err := v4.NewSigner().PresignHTTP(t.Context(), creds, r, "UNSIGNED-PAYLOAD", "s3", sigv4.DefaultRegion, at)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAuthRequired checks that with authentication on, every route but
// ping and version refuses unauthenticated requests with 401 and wrong
// credentials with 403 and a one-line reason, that a refused PUT or DELETE
// changes nothing, and that signed and bearer requests work.
func TestAuthRequired(t *testing.T) {
	s := newAuthServer(t, authToken)
	id := ulid.Make().String()
	putHdr := map[string]string{"X-Meta-ID": id}
	signed := func(ar authRequest) authRequest { ar.secret = authSecretKey; return ar }

	refused := []struct {
		name   string
		req    authRequest
		status int
		reason string
	}{
		{"unsigned PUT", authRequest{method: "POST", path: "/api/v1/put", body: "secret", header: putHdr}, 401, "authentication required"},
		{"unsigned GET", authRequest{method: "GET", path: "/api/v1/get/" + id}, 401, "authentication required"},
		{"unsigned meta", authRequest{method: "GET", path: "/api/v1/meta/" + id}, 401, "authentication required"},
		{"unsigned stats", authRequest{method: "GET", path: "/api/v1/stats"}, 401, "authentication required"},
		{"wrong secret", authRequest{method: "POST", path: "/api/v1/put", body: "secret", header: putHdr, secret: "wrong"}, 403, "signature does not match"},
		{"skewed date", authRequest{method: "GET", path: "/api/v1/get/" + id, secret: authSecretKey, age: 20 * time.Minute}, 403, "too skewed"},
		{"wrong token", authRequest{method: "GET", path: "/api/v1/get/" + id, header: map[string]string{"Authorization": "Bearer not-the-token-at-all"}}, 403, "wrong bearer token"},
		{"body not the signed one", authRequest{method: "POST", path: "/api/v1/put", body: "secret", header: putHdr, secret: authSecretKey,
			payloadHash: strings.Repeat("0", 64)}, 400, "x-amz-content-sha256"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := s.do(t, tc.req)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.reason) || strings.Count(body, "\n") != 1 {
				t.Fatalf("got %d %q, want %d with %q on one line", resp.StatusCode, body, tc.status, tc.reason)
			}
			if tc.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// Nothing refused above was written.
	if resp, body := s.do(t, signed(authRequest{method: "GET", path: "/api/v1/get/" + id})); resp.StatusCode != 404 {
		t.Fatalf("after refused PUTs: GET got %d %q, want 404", resp.StatusCode, body)
	}

	for _, path := range []string{"/api/v1/ping", "/api/v1/version"} {
		if resp, body := s.do(t, authRequest{method: "GET", path: path}); resp.StatusCode != 200 {
			t.Errorf("unsigned %s: got %d %q, want 200", path, resp.StatusCode, body)
		}
	}

	if resp, body := s.do(t, signed(authRequest{method: "POST", path: "/api/v1/put", body: "hello", header: putHdr})); resp.StatusCode != 200 {
		t.Fatalf("signed PUT: %d %q", resp.StatusCode, body)
	}
	if resp, body := s.do(t, signed(authRequest{method: "GET", path: "/api/v1/get/" + id})); resp.StatusCode != 200 || body != "hello" {
		t.Fatalf("signed GET: %d %q", resp.StatusCode, body)
	}
	bearer := map[string]string{"Authorization": "Bearer " + authToken}
	if resp, body := s.do(t, authRequest{method: "GET", path: "/api/v1/get/" + id, header: bearer}); resp.StatusCode != 200 || body != "hello" {
		t.Fatalf("bearer GET: %d %q", resp.StatusCode, body)
	}
	if resp, body := s.do(t, authRequest{method: "POST", path: "/api/v1/delete/" + id}); resp.StatusCode != 401 {
		t.Fatalf("unsigned DELETE: %d %q, want 401", resp.StatusCode, body)
	}
	if resp, body := s.do(t, signed(authRequest{method: "GET", path: "/api/v1/get/" + id})); resp.StatusCode != 200 {
		t.Fatalf("GET after a refused DELETE: %d %q", resp.StatusCode, body)
	}
	if resp, body := s.do(t, signed(authRequest{method: "POST", path: "/api/v1/delete/" + id})); resp.StatusCode != 200 {
		t.Fatalf("signed DELETE: %d %q", resp.StatusCode, body)
	}
}

// TestAuthPresigned checks presigned URLs: a valid one works, an expired
// one is refused with the reason.
func TestAuthPresigned(t *testing.T) {
	s := newAuthServer(t, "")
	id := ulid.Make().String()
	if resp, body := s.do(t, authRequest{method: "POST", path: "/api/v1/put", body: "shared", header: map[string]string{"X-Meta-ID": id},
		secret: authSecretKey}); resp.StatusCode != 200 {
		t.Fatalf("signed PUT: %d %q", resp.StatusCode, body)
	}
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get(s.presign(t, "/api/v1/get/"+id, time.Now(), time.Minute)); status != 200 || body != "shared" {
		t.Errorf("presigned GET: %d %q", status, body)
	}
	if status, body := get(s.presign(t, "/api/v1/get/"+id, time.Now().Add(-2*time.Minute), time.Minute)); status != 403 || !strings.Contains(body, "expired") {
		t.Errorf("expired presigned GET: %d %q, want 403 expired", status, body)
	}
	// Without a token configured, a bearer header is no way in.
	if status, body := get(s.srv.URL + "/api/v1/get/" + id); status != 401 {
		t.Errorf("unsigned GET: %d %q", status, body)
	}
	resp, body := s.do(t, authRequest{method: "GET", path: "/api/v1/get/" + id, header: map[string]string{"Authorization": "Bearer " + authToken}})
	if resp.StatusCode != 401 || !strings.Contains(body, "not accepted") {
		t.Errorf("bearer without a token configured: %d %q, want 401", resp.StatusCode, body)
	}
}

// TestAuthFastPath checks that the fast path answers a hot GET only when
// the request is authentic, and leaves the rest to net/http's refusal.
func TestAuthFastPath(t *testing.T) {
	s := newAuthServer(t, authToken)
	id := ulid.Make().String()
	if resp, body := s.do(t, authRequest{method: "POST", path: "/api/v1/put", body: "hot body", header: map[string]string{"X-Meta-ID": id},
		secret: authSecretKey}); resp.StatusCode != 200 {
		t.Fatalf("signed PUT: %d %q", resp.StatusCode, body)
	}
	hot := authRequest{method: "GET", path: "/api/v1/get/" + id, secret: authSecretKey}
	if resp, _ := s.do(t, hot); resp.StatusCode != 200 {
		t.Fatalf("warming GET: %d", resp.StatusCode)
	}
	cases := []struct {
		name   string
		req    authRequest
		status int
		fast   bool
	}{
		{"signed", hot, 200, true},
		{"bearer", authRequest{method: "GET", path: hot.path, header: map[string]string{"Authorization": "Bearer " + authToken}}, 200, true},
		{"unsigned", authRequest{method: "GET", path: hot.path}, 401, false},
		{"unsigned HEAD", authRequest{method: "HEAD", path: hot.path}, 401, false},
		{"wrong secret", authRequest{method: "GET", path: hot.path, secret: "wrong"}, 403, false},
		{"wrong token", authRequest{method: "GET", path: hot.path, header: map[string]string{"Authorization": "Bearer " + authToken + "x"}}, 403, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.fp.Served()
			resp, body := s.do(t, tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %q, want %d", resp.StatusCode, body, tc.status)
			}
			if fast := s.fp.Served() > before; fast != tc.fast {
				t.Errorf("answered by the fast path: %v, want %v", fast, tc.fast)
			}
			if tc.status == 200 && tc.req.method == "GET" && body != "hot body" {
				t.Errorf("body %q", body)
			}
		})
	}
}

func TestNewAuthRefusesWeakSetups(t *testing.T) {
	if _, err := NewAuth(nil, ""); err == nil {
		t.Error("no keys and no token: accepted")
	}
	if _, err := NewAuth(nil, "short"); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("short token: %v", err)
	}
	if _, err := NewAuth(nil, authToken); err != nil {
		t.Errorf("token only: %v", err)
	}
}
