package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/sigv4"
	"sphere.software/objstore/internal/statuspage"
)

func statusGet(t *testing.T, url, token string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// TestStatusPageRoutes checks where the page and its figures are served,
// and that with auth on the page (static, no figures) stays open while its
// JSON is authenticated like /api/v1/stats.
func TestStatusPageRoutes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string // "" leaves the API open
	}{{"open", ""}, {"auth on", authToken}} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, node.Config{})
			sm, err := statuspage.NewSampler(statuspage.Config{}, n)
			if err != nil {
				t.Fatal(err)
			}
			sm.Start(t.Context())
			t.Cleanup(sm.Close)
			cfg := Config{Bucket: "bkt", Version: "9.9.9", Status: sm}
			if tc.token != "" {
				if cfg.Auth, err = NewAuth(sigv4.NewVerifier(nil, "", nil), tc.token); err != nil {
					t.Fatal(err)
				}
			}
			srv, _ := serveFast(t, NewNative(cfg, n))
			for _, path := range []string{"/", "/status", "/status/app.js", "/status/style.css", "/status/icon.svg"} {
				if code, body, _ := statusGet(t, srv.URL+path, ""); code != http.StatusOK {
					t.Errorf("GET %s: %d %s", path, code, body)
				}
			}
			if code, _, _ := statusGet(t, srv.URL+"/status/nope.js", ""); code != http.StatusNotFound {
				t.Errorf("GET /status/nope.js: %d", code)
			}
			if code, _, _ := statusGet(t, srv.URL+"/index.html", tc.token); code != http.StatusNotFound {
				t.Errorf("GET /index.html: %d, want 404 (only / and /status are the page)", code)
			}
			if tc.token != "" {
				if code, _, hdr := statusGet(t, srv.URL+StatusPath, ""); code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") == "" {
					t.Fatalf("GET %s without a token: %d", StatusPath, code)
				}
				if code, _, _ := statusGet(t, srv.URL+StatusPath, "wrong-token-wrong-token"); code != http.StatusForbidden {
					t.Fatalf("GET %s with a wrong token: %d", StatusPath, code)
				}
			}
			code, body, hdr := statusGet(t, srv.URL+StatusPath, tc.token)
			if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") || hdr.Get("Cache-Control") != "no-store" {
				t.Fatalf("GET %s: %d %v %s", StatusPath, code, hdr, body)
			}
			var r statuspage.Report
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatal(err)
			}
			if r.NodeID != n.ID() || r.Version != "9.9.9" || len(r.Members) != 1 || !r.Members[0].Self || r.IntervalSeconds != 5 {
				t.Fatalf("report = %+v", r)
			}
		})
	}
}

// TestStatusPageOff checks that a native API without a sampler has no page.
func TestStatusPageOff(t *testing.T) {
	srv, _ := newNodeServer(t, node.Config{})
	for _, path := range []string{"/", "/status", StatusPath} {
		if code, _, _ := statusGet(t, srv.URL+path, ""); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
}
