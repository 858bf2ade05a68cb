package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// nativeToken is the bearer token of the nodes that require one.
const nativeToken = "native-api-token-0123456789abcdef"

// nativeDo sends a request to n's native API: signed with the S3 API's
// test credentials (service s3) when signed, else as it is.
func nativeDo(ctx context.Context, t *testing.T, n *Node, signed bool, method, path string, body []byte, hdr ...string) *response {
	t.Helper()
	req := newS3Request(ctx, t, method, n.URL(path), body, hdr...)
	if signed {
		signAt(ctx, t, req, testCreds, time.Now())
	}
	return n.mustSend(t, req)
}

// TestNativeAPIAuth runs a node with --native-api-auth on: unsigned PUT,
// GET and DELETE are refused with 401 and change nothing, wrong
// credentials get 403, requests signed with the S3 API's keys or carrying
// the bearer token work, the fast path answers no unsigned hot GET, and
// ping stays open.
func TestNativeAPIAuth(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t, "--native-api-auth", "on", "--native-api-token", nativeToken, "--access-log", "on")
	ctx := testCtx(t, 2*time.Minute)
	id := newID()
	get := "/api/v1/get/" + id
	body := randomBody(1009, 4<<10)

	wantStatus(t, nativeDo(ctx, t, n, false, http.MethodPost, "/api/v1/put", body, "X-Meta-ID", id), http.StatusUnauthorized, "unsigned PUT")
	wantStatus(t, nativeDo(ctx, t, n, true, http.MethodGet, get, nil), http.StatusNotFound, "signed GET after a refused PUT")
	if _, ok := o.Head(t, id); ok {
		t.Fatal("a refused PUT reached the origin")
	}
	wantStatus(t, nativeDo(ctx, t, n, true, http.MethodPost, "/api/v1/put", body, "X-Meta-ID", id), http.StatusOK, "signed PUT")

	// Signed GETs, the later ones from the hot cache through the fast path.
	for range 3 {
		r := nativeDo(ctx, t, n, true, http.MethodGet, get, nil)
		wantStatus(t, r, http.StatusOK, "signed GET")
		wantBody(t, r.Body, body, "signed GET")
	}
	for _, tc := range []struct {
		name   string
		hdr    []string
		status int
		reason string
	}{
		{"unsigned", nil, http.StatusUnauthorized, "authentication required"},
		{"wrong token", []string{"Authorization", "Bearer " + nativeToken + "-not"}, http.StatusForbidden, "wrong bearer token"},
		{"token", []string{"Authorization", "Bearer " + nativeToken}, http.StatusOK, ""},
	} {
		r := nativeDo(ctx, t, n, false, http.MethodGet, get, nil, tc.hdr...)
		wantStatus(t, r, tc.status, tc.name+" hot GET")
		if tc.status != http.StatusOK && (!strings.Contains(string(r.Body), tc.reason) || strings.Count(string(r.Body), "\n") != 1) {
			t.Errorf("%s hot GET: body %q, want one line with %q", tc.name, r.Body, tc.reason)
		}
	}
	bad := newS3Request(ctx, t, http.MethodGet, n.URL(get), nil)
	signAt(ctx, t, bad, s3Creds(TestAccessKey, TestSecretKey+"-wrong"), time.Now())
	wantStatus(t, n.mustSend(t, bad), http.StatusForbidden, "GET signed with a wrong secret")
	skewed := newS3Request(ctx, t, http.MethodGet, n.URL(get), nil)
	signAt(ctx, t, skewed, testCreds, time.Now().Add(-time.Hour))
	wantStatus(t, n.mustSend(t, skewed), http.StatusForbidden, "GET signed an hour ago")

	// The fast path answered signed and bearer hot GETs, and no refused one.
	eventually(t, 10*time.Second, "access lines of the hot GETs", func() error {
		lines := accessLines(n.log.String())
		if _, ok := findAccess(lines, map[string]string{"path": get, "status": "200", "fast": "true"}); !ok {
			return fmt.Errorf("no signed hot GET answered by the fast path among %d lines", len(lines))
		}
		if _, ok := findAccess(lines, map[string]string{"path": get, "status": "401"}); !ok {
			return fmt.Errorf("no 401 for the unsigned hot GET among %d lines", len(lines))
		}
		return nil
	})
	for _, l := range accessLines(n.log.String()) {
		if l["path"] == get && l["fast"] == "true" && l["status"] != "200" {
			t.Errorf("the fast path answered a refused GET: %v", l)
		}
	}

	wantStatus(t, nativeDo(ctx, t, n, false, http.MethodPost, "/api/v1/delete/"+id, nil), http.StatusUnauthorized, "unsigned DELETE")
	wantStatus(t, nativeDo(ctx, t, n, true, http.MethodGet, get, nil), http.StatusOK, "signed GET after a refused DELETE")
	wantStatus(t, nativeDo(ctx, t, n, true, http.MethodPost, "/api/v1/delete/"+id, nil), http.StatusOK, "signed DELETE")
	wantStatus(t, nativeDo(ctx, t, n, true, http.MethodGet, get, nil), http.StatusNotFound, "signed GET after the DELETE")
	wantStatus(t, nativeDo(ctx, t, n, false, http.MethodGet, "/api/v1/ping", nil), http.StatusOK, "unsigned ping")

	if strings.Contains(n.log.String(), "native API requires no authentication") {
		t.Error("the open-API warning is logged with --native-api-auth on")
	}
}

// TestNativeAPIOpenWarns checks that a node whose S3 API has credentials
// and whose native API is open, as by default, says so loudly at start,
// and that the native API then answers unsigned requests as the original's
// did.
func TestNativeAPIOpenWarns(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	ctx := testCtx(t, time.Minute)
	warned := false
	for line := range strings.SplitSeq(n.log.String(), "\n") {
		f := logFields(line)
		if f["level"] == "WARN" && strings.Contains(f["msg"], "native API requires no authentication") && strings.Contains(f["msg"], "--native-api-auth on") {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("no WARN line about the open native API in the start-up log:\n%s", n.tail())
	}
	id := newID()
	wantStatus(t, nativeDo(ctx, t, n, false, http.MethodPost, "/api/v1/put", []byte("open"), "X-Meta-ID", id), http.StatusOK, "unsigned PUT")
	wantStatus(t, nativeDo(ctx, t, n, false, http.MethodGet, "/api/v1/get/"+id, nil), http.StatusOK, "unsigned GET")
}
