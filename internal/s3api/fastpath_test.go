package s3api

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/objstoretest"
	"sphere.software/objstore/internal/requestid"
)

// TestFastPathGetObject: a GetObject or HeadObject of a hot object, signed
// in the header by the SDK or presigned, is answered by the fast path with
// what net/http answers (Date and x-amz-request-id aside); everything the
// fast path must not answer — a bad signature, a response-* override, a
// range, a sub-resource, a cold key — gets net/http's answer.
func TestFastPathGetObject(t *testing.T) {
	e := newEnv(t, nil)
	plain := httptest.NewServer(requestid.Middleware(e.api))
	t.Cleanup(plain.Close)
	body := strings.Repeat("hot bytes ", 300)
	_, err := e.client.PutObject(t.Context(), &awss3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/hot.txt"),
		Body: strings.NewReader(body), ContentType: aws.String("text/plain"), CacheControl: aws.String("max-age=60"),
		Metadata: map[string]string{"team": "ops"}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(c *awss3.Client) *awss3.GetObjectOutput {
		t.Helper()
		out, err := c.GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/hot.txt")})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(b) != body {
			t.Fatalf("GetObject: %d bytes, want %d", len(b), len(body))
		}
		return out
	}
	get(e.client) // into the hot cache
	// A new client, so a new connection: the first request on it goes to
	// the fast path whatever net/http did on the others.
	before := e.fast.Served()
	out := get(newClient(e.srv.URL, testAccess, testSecret))
	if e.fast.Served() != before+1 {
		t.Fatalf("the SDK's GetObject of a hot object was not answered by the fast path")
	}
	if out.Metadata["team"] != "ops" || aws.ToString(out.CacheControl) != "max-age=60" || aws.ToString(out.ContentType) != "text/plain" {
		t.Errorf("GetObject headers: %v %q %q", out.Metadata, aws.ToString(out.CacheControl), aws.ToString(out.ContentType))
	}

	presign := func(in *awss3.GetObjectInput) string {
		t.Helper()
		req, err := awss3.NewPresignClient(e.client).PresignGetObject(t.Context(), in, awss3.WithPresignExpires(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(req.URL, e.srv.URL)
	}
	hot := &awss3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/hot.txt")}
	target := presign(hot)
	tests := []struct {
		name, method, target string
		header               map[string]string
		fast                 bool
	}{
		{"presigned", "GET", target, nil, true},
		{"tampered signature", "GET", target[:len(target)-4] + "0000", nil, false},
		{"response override", "GET", presign(&awss3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/hot.txt"),
			ResponseContentType: aws.String("application/x-test")}), nil, false},
		{"range", "GET", target, map[string]string{"Range": "bytes=0-3"}, false},
		{"head", "HEAD", presign4(e, t, "HEAD"), nil, true},
		{"unsigned", "GET", "/" + testBucket + "/dir/hot.txt", nil, false},
		{"sub-resource", "GET", "/" + testBucket + "/dir/hot.txt?tagging", nil, false},
		{"missing key", "GET", presign(&awss3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/cold.txt")}), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			do := func(base string) (*http.Response, string) {
				t.Helper()
				req, err := http.NewRequest(tt.method, base+tt.target, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = e.srv.Listener.Addr().String() // the host the URL was signed for
				for k, v := range tt.header {
					req.Header.Set(k, v)
				}
				// A connection of its own, so that what the fast path
				// answers does not depend on the subtests before.
				tr := &http.Transport{}
				defer tr.CloseIdleConnections()
				resp, err := (&http.Client{Transport: tr}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, string(b)
			}
			before := e.fast.Served()
			fast, fastBody := do(e.srv.URL)
			if served := e.fast.Served() != before; served != tt.fast {
				t.Errorf("answered by the fast path: %v, want %v", served, tt.fast)
			}
			slow, slowBody := do(plain.URL)
			fh, sh := fast.Header.Clone(), slow.Header.Clone()
			for _, h := range []http.Header{fh, sh} {
				if id := h.Get("X-Amz-Request-Id"); id != h.Get(requestid.Header) {
					t.Errorf("x-amz-request-id %q, X-Request-Id %q: want one id", id, h.Get(requestid.Header))
				}
			}
			for _, h := range []string{"Date", "X-Amz-Request-Id", requestid.Header} {
				if fh.Get(h) == "" || sh.Get(h) == "" {
					t.Errorf("%s missing: fast %q, net/http %q", h, fh.Get(h), sh.Get(h))
				}
				fh.Del(h)
				sh.Del(h)
			}
			fastBody, slowBody = withoutRequestID(fastBody), withoutRequestID(slowBody)
			if fast.StatusCode != slow.StatusCode || !reflect.DeepEqual(fh, sh) || fastBody != slowBody {
				t.Errorf("fast path: %d %v %q\nnet/http:  %d %v %q", fast.StatusCode, fh, trimTo(fastBody, 80),
					slow.StatusCode, sh, trimTo(slowBody, 80))
			}
		})
	}
}

// presign4 presigns a HeadObject (method HEAD) of dir/hot.txt and returns
// its path and query.
func presign4(e *env, t *testing.T, method string) string {
	t.Helper()
	if method != "HEAD" {
		t.Fatalf("presign4: %s", method)
	}
	req, err := awss3.NewPresignClient(e.client).PresignHeadObject(t.Context(),
		&awss3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/hot.txt")}, awss3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(req.URL, e.srv.URL)
}

// withoutRequestID cuts an error document before its RequestId, which
// differs from request to request.
func withoutRequestID(body string) string {
	if i := strings.Index(body, "<RequestId>"); i >= 0 {
		return body[:i]
	}
	return body
}

func trimTo(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// hotRequest puts key in the hot cache and returns a whole GetObject head
// for it signed for srv, which the fast path answers.
func (e *env) hotRequest(t *testing.T, srv *httptest.Server, key string) string {
	t.Helper()
	if _, err := e.client.PutObject(t.Context(), &awss3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key),
		Body: strings.NewReader(strings.Repeat("hot ", 1024))}); err != nil {
		t.Fatal(err)
	}
	r, err := http.NewRequest(http.MethodGet, srv.URL+"/"+testBucket+"/"+key, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.sign(t, r)
	if resp, err := srv.Client().Do(r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("warming the hot cache: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	var head strings.Builder
	head.WriteString("GET /" + testBucket + "/" + key + " HTTP/1.1\r\nHost: " + r.Host + "\r\n")
	if err := r.Header.Write(&head); err != nil {
		t.Fatal(err)
	}
	head.WriteString("\r\n")
	before := e.fast.Served()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, head.String()); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 200 || e.fast.Served() != before+1 {
		t.Fatalf("the hot request is not answered by the fast path: %v %v", resp, err)
	}
	return head.String()
}

var requestIDs = regexp.MustCompile(`<RequestId>[^<]*</RequestId>`)

// TestFastPathRequestBoundaries: bytes that net/http holds of the next
// request (a 4 KiB read that crossed into it, or a byte its background
// read took) are never followed by the fast path reading the rest of that
// request as a new one, even one with a valid signature; the client gets
// exactly net/http's answers.
func TestFastPathRequestBoundaries(t *testing.T) {
	e := newEnv(t, nil)
	slowFast, fastEntered := objstoretest.Slow(e.api)
	fast, fp := objstoretest.ServeFast(t, struct {
		http.Handler
		fastpath.Answerer
	}{slowFast, e.api})
	e.fast = fp
	slowPlain, plainEntered := objstoretest.Slow(e.api)
	plain := httptest.NewServer(slowPlain)
	t.Cleanup(plain.Close)
	objstoretest.CheckRequestBoundaries(t, objstoretest.Boundaries{Fast: fast, Plain: plain,
		FastEntered: fastEntered, PlainEntered: plainEntered, Hot: e.hotRequest(t, fast, "hot/key"),
		Normalize: func(b []byte) []byte { return requestIDs.ReplaceAll(b, nil) }})
}

// TestFastPathHosts: a Host net/http refuses is refused with the fast
// path too, even on a request signed for it.
func TestFastPathHosts(t *testing.T) {
	e := newEnv(t, nil)
	plain := httptest.NewServer(e.api)
	t.Cleanup(plain.Close)
	objstoretest.CheckHosts(t, e.srv, plain, e.hotRequest(t, e.srv, "hot/key"))
}
