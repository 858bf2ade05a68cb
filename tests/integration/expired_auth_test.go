package integration

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// presignAt presigns a request to rawURL at time at for expires, with the
// test credentials, service s3, as aws-sdk-go-v2 does for a client; hdr
// are header pairs that are signed and must be sent. It returns the
// request, ready to send.
func presignAt(ctx context.Context, t testing.TB, method, rawURL string, body []byte, at time.Time, expires time.Duration, hdr ...string) *http.Request {
	t.Helper()
	u := rawURL + "?" + url.Values{"X-Amz-Expires": {fmt.Sprint(int(expires.Seconds()))}}.Encode()
	req := newS3Request(ctx, t, method, u, body, hdr...)
	req.Header.Del("X-Amz-Content-Sha256") // a presigned URL carries no payload hash
	signed, headers, err := v4.NewSigner().PresignHTTP(ctx, testCreds, req, "UNSIGNED-PAYLOAD", "s3", s3Region, at)
	if err != nil {
		t.Fatalf("presign %s %s: %v", method, rawURL, err)
	}
	out := newS3Request(ctx, t, method, signed, body)
	out.Header = headers.Clone()
	return out
}

// s3ErrorMessage is the <Message> of an S3 error body.
func s3ErrorMessage(body []byte) string {
	var e s3ErrorDoc
	if err := xml.Unmarshal(body, &e); err != nil {
		return ""
	}
	return e.Message
}

// TestS3APIExpiredSignatures sends requests to a node's S3 API whose
// signature is out of its time: a presigned URL past X-Amz-Expires or dated
// in the future, a header-signed request dated outside the 15-minute
// window either way. Each gets 403 with the code AWS S3 answers
// (AccessDenied "request has expired", RequestTimeTooSkewed), and a
// refused PUT or DELETE changes nothing on the node or in the origin.
func TestS3APIExpiredSignatures(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	ctx := testCtx(t, 2*time.Minute)
	body := randomBody(403, 2000)
	known := "/" + o.Bucket + "/expired/known.bin"
	wantStatus(t, n.s3Do(ctx, t, http.MethodPut, known, body), http.StatusOK, "PUT "+known)
	keys := len(o.Keys(t))
	now := time.Now()

	// unchanged checks that the known object is as written, nothing else
	// appeared in the origin, and path was not written.
	unchanged := func(t *testing.T, path string) {
		t.Helper()
		r := n.s3Do(ctx, t, http.MethodGet, known, nil)
		wantStatus(t, r, http.StatusOK, "GET "+known+" after a refused request")
		wantBody(t, r.Body, body, "GET "+known+" after a refused request")
		if r := n.s3Do(ctx, t, http.MethodHead, path, nil); r.Status != http.StatusNotFound {
			t.Errorf("HEAD %s after a refused PUT: %d, want 404", path, r.Status)
		}
		if got := len(o.Keys(t)); got != keys {
			t.Errorf("the origin holds %d keys after a refused request, want %d", got, keys)
		}
	}
	for _, tc := range []struct {
		name    string
		req     func(path string) *http.Request
		code    string
		message string
	}{
		{"presigned GET expired", func(string) *http.Request {
			return presignAt(ctx, t, http.MethodGet, n.s3URL(known), nil, now.Add(-2*time.Hour), time.Minute)
		}, "AccessDenied", "expired"},
		{"presigned PUT expired", func(path string) *http.Request {
			return presignAt(ctx, t, http.MethodPut, n.s3URL(path), body, now.Add(-2*time.Hour), time.Minute)
		}, "AccessDenied", "expired"},
		{"presigned PUT expired a second ago", func(path string) *http.Request {
			return presignAt(ctx, t, http.MethodPut, n.s3URL(path), body, now.Add(-61*time.Second), time.Minute)
		}, "AccessDenied", "expired"},
		{"presigned DELETE expired", func(string) *http.Request {
			return presignAt(ctx, t, http.MethodDelete, n.s3URL(known), nil, now.Add(-25*time.Hour), 24*time.Hour)
		}, "AccessDenied", "expired"},
		{"presigned PUT dated an hour ahead", func(path string) *http.Request {
			return presignAt(ctx, t, http.MethodPut, n.s3URL(path), body, now.Add(time.Hour), time.Minute)
		}, "AccessDenied", "not valid yet"},
		{"PUT signed 16 minutes ago", func(path string) *http.Request {
			req := newS3Request(ctx, t, http.MethodPut, n.s3URL(path), body)
			signAt(ctx, t, req, testCreds, now.Add(-16*time.Minute))
			return req
		}, "RequestTimeTooSkewed", "skewed"},
		{"PUT signed 16 minutes ahead", func(path string) *http.Request {
			req := newS3Request(ctx, t, http.MethodPut, n.s3URL(path), body)
			signAt(ctx, t, req, testCreds, now.Add(16*time.Minute))
			return req
		}, "RequestTimeTooSkewed", "skewed"},
		{"DELETE signed a day ago", func(string) *http.Request {
			req := newS3Request(ctx, t, http.MethodDelete, n.s3URL(known), nil)
			signAt(ctx, t, req, testCreds, now.Add(-24*time.Hour))
			return req
		}, "RequestTimeTooSkewed", "skewed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/" + o.Bucket + "/expired/" + strings.ReplaceAll(tc.name, " ", "-") + ".bin"
			r := n.mustSend(t, tc.req(path))
			wantS3Error(t, r, http.StatusForbidden, tc.code, tc.name)
			if msg := s3ErrorMessage(r.Body); !strings.Contains(strings.ToLower(msg), tc.message) {
				t.Errorf("%s: message %q, want it to say %q", tc.name, msg, tc.message)
			}
			unchanged(t, path)
		})
	}
	// Within the window, the same requests pass: the refusals above are
	// about time, nothing else.
	t.Run("within the window", func(t *testing.T) {
		path := "/" + o.Bucket + "/expired/within.bin"
		req := newS3Request(ctx, t, http.MethodPut, n.s3URL(path), body)
		signAt(ctx, t, req, testCreds, now.Add(-14*time.Minute))
		wantStatus(t, n.mustSend(t, req), http.StatusOK, "PUT signed 14 minutes ago")
		r := n.mustSend(t, presignAt(ctx, t, http.MethodGet, n.s3URL(path), nil, now.Add(-50*time.Second), time.Minute))
		wantStatus(t, r, http.StatusOK, "GET presigned 50 seconds ago for a minute")
		wantBody(t, r.Body, body, "GET presigned 50 seconds ago for a minute")
	})
}

// TestNativeAPIExpiredSignatures runs a node with --native-api-auth on and
// checks that the native API takes presigned SigV4 URLs, and refuses with
// 403 and a one-line reason a presigned URL past its expiry and a
// header-signed request outside the 15-minute window, the fast path
// included (the object is hot), writing and deleting nothing. The bearer
// token (--native-api-token) is a static secret with no expiry: it is
// checked in TestNativeAPIAuth.
func TestNativeAPIExpiredSignatures(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t, "--native-api-auth", "on", "--access-log", "on")
	ctx := testCtx(t, 2*time.Minute)
	id, body := newID(), randomBody(1010, 8<<10)
	get := n.URL("/api/v1/get/" + id)
	wantStatus(t, nativeDo(ctx, t, n, true, http.MethodPost, "/api/v1/put", body, "X-Meta-ID", id), http.StatusOK, "signed PUT")
	now := time.Now()
	for range 3 { // hot: the fast path answers from here on
		r := n.mustSend(t, presignAt(ctx, t, http.MethodGet, get, nil, now, time.Minute))
		wantStatus(t, r, http.StatusOK, "presigned GET")
		wantBody(t, r.Body, body, "presigned GET")
	}
	other := newID()
	for _, tc := range []struct {
		name   string
		req    *http.Request
		reason string
	}{
		{"presigned GET expired", presignAt(ctx, t, http.MethodGet, get, nil, now.Add(-2*time.Hour), time.Minute), "expired"},
		{"presigned GET dated an hour ahead", presignAt(ctx, t, http.MethodGet, get, nil, now.Add(time.Hour), time.Minute), "not valid yet"},
		{"presigned PUT expired", presignAt(ctx, t, http.MethodPost, n.URL("/api/v1/put"), body, now.Add(-2*time.Hour), time.Minute, "X-Meta-ID", other), "expired"},
		{"presigned DELETE expired", presignAt(ctx, t, http.MethodPost, n.URL("/api/v1/delete/"+id), nil, now.Add(-2*time.Hour), time.Minute), "expired"},
		{"GET signed an hour ago", signedNative(ctx, t, http.MethodGet, get, nil, now.Add(-time.Hour)), "skewed"},
		{"PUT signed 16 minutes ago", signedNative(ctx, t, http.MethodPost, n.URL("/api/v1/put"), body, now.Add(-16*time.Minute), "X-Meta-ID", other), "skewed"},
		{"DELETE signed 16 minutes ahead", signedNative(ctx, t, http.MethodPost, n.URL("/api/v1/delete/"+id), nil, now.Add(16*time.Minute)), "skewed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := n.mustSend(t, tc.req)
			if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), tc.reason) || strings.Count(string(r.Body), "\n") != 1 {
				t.Errorf("%s: %s, want 403 with one line saying %q", tc.name, r, tc.reason)
			}
			g := nativeDo(ctx, t, n, true, http.MethodGet, "/api/v1/get/"+id, nil)
			wantStatus(t, g, http.StatusOK, "signed GET after "+tc.name)
			wantBody(t, g.Body, body, "signed GET after "+tc.name)
			wantStatus(t, nativeDo(ctx, t, n, true, http.MethodGet, "/api/v1/get/"+other, nil), http.StatusNotFound, "signed GET of the refused PUT's id")
			if _, ok := o.Head(t, other); ok {
				t.Errorf("%s: the refused PUT reached the origin", tc.name)
			}
		})
	}
	eventually(t, 10*time.Second, "access lines of the GETs", func() error {
		if _, ok := findAccess(accessLines(n.log.String()), map[string]string{"path": "/api/v1/get/" + id, "status": "403"}); !ok {
			return fmt.Errorf("no 403 for the expired GET in the access log")
		}
		return nil
	})
	for _, l := range accessLines(n.log.String()) {
		if l["path"] == "/api/v1/get/"+id && l["fast"] == "true" && l["status"] != "200" {
			t.Errorf("the fast path answered a refused GET: %v", l)
		}
	}
}

// signedNative is a request to url signed in its header with the test
// credentials at time at.
func signedNative(ctx context.Context, t testing.TB, method, url string, body []byte, at time.Time, hdr ...string) *http.Request {
	t.Helper()
	req := newS3Request(ctx, t, method, url, body, hdr...)
	signAt(ctx, t, req, testCreds, at)
	return req
}
