package sigv4_test

import (
	"crypto/sha256"
	"encoding/hex"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"net/http"
	"testing"
	"time"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// hostileKeys are object keys whose escaping trips signers and verifiers.
var hostileKeys = []string{
	"plain.txt",
	"with space.txt",
	"plus+sign",
	"100%",
	"%41 not an escape",
	"tilde~user/~",
	"ünïcödé/日本語.txt",
	"dir//double/slash/",
	"./dot/../segments",
	"query?and#fragment",
	"sub-delims!$&'()*+,;=:@",
	"unicode\u00a0nbsp\ttab",
	"emoji-\U0001F600",
	"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z",
}

func TestHeaderSigned(t *testing.T) {
	s := newServer(t, false, false)
	type tc struct {
		name, method, path, query, body, hash string
		headers                               map[string][]string
	}
	tests := []tc{
		{name: "GET empty payload", method: http.MethodGet, path: "/bucket/key", hash: sha256Hex("")},
		{name: "PUT hex payload", method: http.MethodPut, path: "/bucket/key", body: "hello, world", hash: sha256Hex("hello, world")},
		{name: "PUT unsigned payload", method: http.MethodPut, path: "/bucket/key", body: "hello, world", hash: unsigned},
		{name: "root", method: http.MethodGet, path: "/", hash: unsigned},
		{name: "query sorted, empty and repeated values", method: http.MethodGet, path: "/bucket",
			query: "prefix=a%20b%2Bc&list-type=2&delimiter=%2F&marker=&x=2&x=1&acl&encoding-type=url&a%2Fb=a-b", hash: unsigned},
		{name: "query with '+' as space", method: http.MethodGet, path: "/bucket", query: "prefix=a+b", hash: unsigned},
		{name: "headers trimmed, spaces collapsed, values joined", method: http.MethodPut, path: "/bucket/key", body: "x", hash: sha256Hex("x"),
			headers: map[string][]string{"X-Amz-Meta-Spaces": {"  a   b  c  "}, "X-Amz-Meta-Multi": {"one", "two"}, "Content-Type": {"text/plain"}}},
	}
	for _, key := range hostileKeys {
		tests = append(tests, tc{name: "key " + key, method: http.MethodPut, path: "/bucket/" + escapeKey(key), body: key, hash: sha256Hex(key)})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.newRequest(t, tc.method, tc.path, tc.query, tc.body)
			for k, vs := range tc.headers {
				r.Header[k] = vs
			}
			sign(t, r, tc.hash, testAccessKey, testSecretKey, testTime)
			status, body := s.do(t, r)
			if status != http.StatusOK || body != tc.body {
				t.Fatalf("got %d %q, want 200 %q", status, body, tc.body)
			}
			if ak, _, _, _ := s.seen.get(); ak != testAccessKey {
				t.Errorf("access key %q", ak)
			}
		})
	}
}

func TestHeaderSignedRejected(t *testing.T) {
	s := newServer(t, false, false)
	good := func(t *testing.T, body string) *http.Request {
		r := s.newRequest(t, http.MethodPut, "/bucket/"+escapeKey("a key+"), "partNumber=1&uploadId=x", body)
		r.Header.Set("X-Amz-Meta-A", "1")
		return r
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T) *http.Request
		status int
		code   string
	}{
		{"wrong secret", func(t *testing.T) *http.Request {
			r := good(t, "body")
			sign(t, r, sha256Hex("body"), testAccessKey, "wrong", testTime)
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"unknown access key", func(t *testing.T) *http.Request {
			r := good(t, "body")
			sign(t, r, sha256Hex("body"), "AKIDUNKNOWN", testSecretKey, testTime)
			return r
		}, 403, "InvalidAccessKeyId"},
		{"tampered header", func(t *testing.T) *http.Request {
			r := good(t, "body")
			sign(t, r, sha256Hex("body"), testAccessKey, testSecretKey, testTime)
			r.Header.Set("X-Amz-Meta-A", "2")
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"unsigned x-amz header added", func(t *testing.T) *http.Request {
			r := good(t, "body")
			sign(t, r, sha256Hex("body"), testAccessKey, testSecretKey, testTime)
			r.Header.Set("X-Amz-Meta-Injected", "1")
			return r
		}, 403, "AccessDenied"},
		{"tampered query", func(t *testing.T) *http.Request {
			r := good(t, "body")
			sign(t, r, sha256Hex("body"), testAccessKey, testSecretKey, testTime)
			r.URL.RawQuery = "partNumber=2&uploadId=x"
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"tampered path", func(t *testing.T) *http.Request {
			r := good(t, "body")
			sign(t, r, sha256Hex("body"), testAccessKey, testSecretKey, testTime)
			r.URL.Path, r.URL.RawPath = "/bucket/a key-", "/bucket/a%20key-"
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"tampered body, caught at EOF", func(t *testing.T) *http.Request {
			r := good(t, "body")
			sign(t, r, sha256Hex("bodY"), testAccessKey, testSecretKey, testTime)
			return r
		}, 400, "XAmzContentSHA256Mismatch"},
		{"skewed 16 minutes early", func(t *testing.T) *http.Request {
			r := good(t, "body")
			sign(t, r, sha256Hex("body"), testAccessKey, testSecretKey, testTime.Add(-16*time.Minute))
			return r
		}, 403, "RequestTimeTooSkewed"},
		{"skewed 16 minutes late", func(t *testing.T) *http.Request {
			r := good(t, "body")
			sign(t, r, sha256Hex("body"), testAccessKey, testSecretKey, testTime.Add(16*time.Minute))
			return r
		}, 403, "RequestTimeTooSkewed"},
		{"no authentication", func(t *testing.T) *http.Request { return good(t, "body") }, 403, "AccessDenied"},
		{"bad content sha256", func(t *testing.T) *http.Request {
			r := good(t, "body")
			sign(t, r, "not-a-hash", testAccessKey, testSecretKey, testTime)
			return r
		}, 400, "AuthorizationHeaderMalformed"},
		{"header and query signatures", func(t *testing.T) *http.Request {
			r := good(t, "body")
			sign(t, r, sha256Hex("body"), testAccessKey, testSecretKey, testTime)
			r.URL.RawQuery += "&X-Amz-Signature=00"
			return r
		}, 400, "AuthorizationHeaderMalformed"},
		{"signature v2", func(t *testing.T) *http.Request {
			r := good(t, "body")
			r.Header.Set("Authorization", "AWS "+testAccessKey+":c2lnbmF0dXJl")
			return r
		}, 400, "InvalidRequest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, code := s.do(t, tc.mutate(t))
			if status != tc.status || code != tc.code {
				t.Errorf("got %d %s, want %d %s", status, code, tc.status, tc.code)
			}
		})
	}
}

// Skew within 15 minutes either way is accepted; a Date header works
// when x-amz-date is absent.
func TestClockSkewAllowed(t *testing.T) {
	s := newServer(t, false, false)
	for _, d := range []time.Duration{-15 * time.Minute, -time.Minute, time.Minute, 15 * time.Minute} {
		r := s.newRequest(t, http.MethodGet, "/bucket/k", "", "")
		sign(t, r, unsigned, testAccessKey, testSecretKey, testTime.Add(d))
		if status, _ := s.do(t, r); status != http.StatusOK {
			t.Errorf("skew %s: status %d", d, status)
		}
	}
}

func TestWrongRegion(t *testing.T) {
	s := newServer(t, false, false)
	r := s.newRequest(t, http.MethodGet, "/bucket/k", "", "")
	r.Header.Set("X-Amz-Content-Sha256", unsigned)
	if err := v4.NewSigner().SignHTTP(t.Context(), creds(), r, unsigned, "s3", "eu-west-1", testTime); err != nil {
		t.Fatal(err)
	}
	if status, code := s.do(t, r); status != 400 || code != "AuthorizationHeaderMalformed" {
		t.Errorf("got %d %s", status, code)
	}
}

func creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}
}

// The Verifier caches derived signing keys: a cached key must not let a
// signature made with another secret through, before or after.
func TestSigningKeyCached(t *testing.T) {
	s := newServer(t, false, false)
	for i, secret := range []string{testSecretKey, "wrong", testSecretKey, "wrong"} {
		r := s.newRequest(t, http.MethodGet, "/bucket/k", "", "")
		sign(t, r, unsigned, testAccessKey, secret, testTime)
		status, code := s.do(t, r)
		want := http.StatusOK
		if secret != testSecretKey {
			want = http.StatusForbidden
		}
		if status != want {
			t.Errorf("request %d with secret %q: got %d %s, want %d", i, secret, status, code, want)
		}
	}
}

// A query that does not parse is a malformed header-signed request, and no
// presigned URL.
func TestBadQueryEscape(t *testing.T) {
	s := newServer(t, false, false)
	r := s.newRequest(t, http.MethodGet, "/bucket/k", "", "")
	sign(t, r, unsigned, testAccessKey, testSecretKey, testTime)
	r.URL.RawQuery = "prefix=%zz"
	if status, code := s.do(t, r); status != 400 || code != "AuthorizationHeaderMalformed" {
		t.Errorf("header-signed: got %d %s", status, code)
	}
	r = s.newRequest(t, http.MethodGet, "/bucket/k", "X-Amz-Signature=%zz", "")
	if status, code := s.do(t, r); status != 403 || code != "AccessDenied" {
		t.Errorf("unsigned: got %d %s", status, code)
	}
}
