package sigv4_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPresigned(t *testing.T) {
	s := newServer(t, false, false)
	tests := []struct {
		name, method, key, body, expires string
		clock                            time.Duration // server clock after signing
		status                           int
		code                             string
	}{
		{"GET", http.MethodGet, "k", "", "900", 0, 200, ""},
		{"PUT with body", http.MethodPut, "k", "payload", "900", 0, 200, "payload"},
		{"hostile key", http.MethodGet, "ünï cöde+%~/x", "", "60", 0, 200, ""},
		{"just before expiry", http.MethodGet, "k", "", "60", 60 * time.Second, 200, ""},
		{"expired", http.MethodGet, "k", "", "60", 61 * time.Second, 403, "AccessDenied"},
		{"seven days", http.MethodGet, "k", "", "604800", 6 * 24 * time.Hour, 200, ""},
		{"over seven days", http.MethodGet, "k", "", "604801", 0, 400, "AuthorizationQueryParametersError"},
		{"zero expiry", http.MethodGet, "k", "", "0", 0, 400, "AuthorizationQueryParametersError"},
		{"not valid yet", http.MethodGet, "k", "", "900", -16 * time.Minute, 403, "AccessDenied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := presign(t, s.newRequest(t, tc.method, "/bucket/"+escapeKey(tc.key), "versionId=", tc.body), tc.expires, testTime)
			s.clock.Store(testTime.Add(tc.clock).UnixNano())
			t.Cleanup(func() { s.clock.Store(testTime.UnixNano()) })
			status, body := s.do(t, r)
			if status != tc.status || body != tc.code {
				t.Errorf("got %d %q, want %d %q", status, body, tc.status, tc.code)
			}
		})
	}
}

func TestPresignedTampered(t *testing.T) {
	s := newServer(t, false, false)
	tests := []struct {
		name   string
		mutate func(*http.Request)
		status int
		code   string
	}{
		{"query value changed", func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "versionId=1", "versionId=2", 1)
		}, 403, "SignatureDoesNotMatch"},
		{"query parameter added", func(r *http.Request) { r.URL.RawQuery += "&acl=" }, 403, "SignatureDoesNotMatch"},
		{"expiry extended", func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=60", "X-Amz-Expires=600", 1)
		}, 403, "SignatureDoesNotMatch"},
		{"path changed", func(r *http.Request) { r.URL.Path, r.URL.RawPath = "/bucket/other", "" }, 403, "SignatureDoesNotMatch"},
		{"signature missing", func(r *http.Request) {
			r.URL.RawQuery = r.URL.RawQuery[:strings.Index(r.URL.RawQuery, "&X-Amz-Signature")]
		}, 400, "AuthorizationQueryParametersError"},
		{"signature repeated", func(r *http.Request) { r.URL.RawQuery += "&X-Amz-Signature=" + strings.Repeat("0", 64) }, 400, "AuthorizationQueryParametersError"},
		{"streaming payload in a URL", func(r *http.Request) {
			r.URL.RawQuery += "&X-Amz-Content-Sha256=STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
		}, 403, "SignatureDoesNotMatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := presign(t, s.newRequest(t, http.MethodGet, "/bucket/k", "versionId=1", ""), "60", testTime)
			tc.mutate(r)
			if status, code := s.do(t, r); status != tc.status || code != tc.code {
				t.Errorf("got %d %q, want %d %q", status, code, tc.status, tc.code)
			}
		})
	}
}
