package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/journal"
	"sphere.software/objstore/internal/localdir"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/objstoretest"
)

// newServer runs the native API over a node on real parts in a temp dir,
// with a local directory origin.
func newServer(t *testing.T, maxSize int64) *httptest.Server {
	t.Helper()
	srv, _ := newNodeServer(t, node.Config{MaxObjectSize: maxSize})
	return srv
}

// newNodeServer is newServer with the node's configuration (NodeID is
// filled in), returning the node too.
func newNodeServer(t *testing.T, cfg node.Config) (*httptest.Server, *node.Node) {
	t.Helper()
	n := newNode(t, cfg)
	srv, _ := serveFast(t, NewNative(Config{Bucket: "bkt", Version: "test", MaxObjectSize: cfg.MaxObjectSize}, n))
	return srv, n
}

// newNode is a node on real parts in a temp dir, with a local directory
// origin (NodeID is filled in).
func newNode(t *testing.T, cfg node.Config) *node.Node {
	t.Helper()
	dir := t.TempDir()
	j, err := journal.Open(filepath.Join(dir, "state", "journal.db"), journal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	blobs, err := disk.Open(filepath.Join(dir, "files"), disk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	origin, err := localdir.Open(filepath.Join(dir, "origin"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.NodeID = j.NodeID()
	n, err := node.New(context.Background(), cfg, j, node.AdaptBlobs(blobs), origin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	return n
}

// serveFast serves api as objstore does (see objstoretest.ServeFast).
func serveFast(t *testing.T, api *Native) (*httptest.Server, *fastpath.Server) {
	t.Helper()
	return objstoretest.ServeFast(t, api)
}

// TestStoredHeaders checks that GET and HEAD answer with the headers stored
// with the object, from disk and from the hot cache, on ranges and 304s too.
func TestStoredHeaders(t *testing.T) {
	stored := map[string]string{
		"Cache-Control":       "public, max-age=600",
		"Content-Disposition": `attachment; filename="notes.txt"`,
		"Content-Encoding":    "identity",
		"Content-Language":    "en",
		"Expires":             "Fri, 01 Jan 2038 00:00:00 GMT",
	}
	for _, hot := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprintf("hot cache %d", hot), func(t *testing.T) {
			srv, n := newNodeServer(t, node.Config{HotCacheBytes: hot})
			id := ulid.Make().String()
			_, err := n.Put(t.Context(), node.PutRequest{
				Key: objstore.Key{Bucket: "bkt", ID: id}, Name: "notes.txt", Headers: stored,
				Size: 12, Body: strings.NewReader("hello, world"),
			})
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			url := srv.URL + "/api/v1/get/" + id
			check := func(what string, resp *http.Response, status int, want map[string]string) {
				t.Helper()
				if resp.StatusCode != status {
					t.Errorf("%s: status %d, want %d", what, resp.StatusCode, status)
				}
				for k, v := range want {
					if got := resp.Header.Get(k); got != v {
						t.Errorf("%s: %s = %q, want %q", what, k, got, v)
					}
				}
			}
			for range 2 { // the second read comes from the hot cache, if any
				resp, body := do(t, "GET", url, nil, "")
				check("GET", resp, 200, stored)
				if body != "hello, world" {
					t.Errorf("GET: body %q", body)
				}
				resp, _ = do(t, "HEAD", url, nil, "")
				check("HEAD", resp, 200, stored)
			}
			resp, body := do(t, "GET", url, map[string]string{"Range": "bytes=7-11"}, "")
			check("range", resp, 206, stored)
			if body != "world" {
				t.Errorf("range: body %q", body)
			}
			resp, _ = do(t, "GET", url, map[string]string{"If-None-Match": resp.Header.Get("ETag")}, "")
			check("if-none-match", resp, 304, map[string]string{"Cache-Control": stored["Cache-Control"], "Expires": stored["Expires"]})
		})
	}
}

func do(t *testing.T, method, url string, hdr map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
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
	return resp, string(b)
}

func TestPutGetHeadDelete(t *testing.T) {
	srv := newServer(t, 0)
	id := strings.ToLower(ulid.Make().String()) // ids are case-insensitive
	resp, body := do(t, "POST", srv.URL+"/api/v1/put", map[string]string{
		"X-Meta-ID": id, "X-Meta-Name": "notes.txt", "X-Meta-ConsistencyLevel": "1", "X-Meta-UserMeta": `{"b": 2, "a": "ü"}`,
	}, "hello, world")
	if resp.StatusCode != 200 {
		t.Fatalf("put: %d %s", resp.StatusCode, body)
	}
	upper := strings.ToUpper(id)
	resp, body = do(t, "GET", srv.URL+"/api/v1/get/"+id, nil, "")
	if resp.StatusCode != 200 || body != "hello, world" {
		t.Fatalf("get: %d %q", resp.StatusCode, body)
	}
	for k, want := range map[string]string{
		"X-Meta-Id": upper, "X-Meta-Name": "notes.txt", "X-Meta-Consistencylevel": "1",
		"Content-Type": "text/plain; charset=utf-8", "Accept-Ranges": "bytes", "Content-Length": "12",
		"X-Meta-Usermeta": `{"a":"\u00fc","b":2}`,
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	var um map[string]any
	if err := json.Unmarshal([]byte(resp.Header.Get("X-Meta-Usermeta")), &um); err != nil || um["a"] != "ü" {
		t.Errorf("user meta header is not the JSON it was: %v %v", um, err)
	}
	etag := resp.Header.Get("ETag")
	resp, body = do(t, "HEAD", srv.URL+"/api/v1/get/"+upper, nil, "")
	if resp.StatusCode != 200 || body != "" || resp.Header.Get("ETag") != etag || resp.Header.Get("Content-Length") != "12" {
		t.Fatalf("head: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = do(t, "GET", srv.URL+"/api/v1/get/"+upper, map[string]string{"Range": "bytes=7-11"}, "")
	if resp.StatusCode != 206 || body != "world" || resp.Header.Get("Content-Range") != "bytes 7-11/12" {
		t.Fatalf("range: %d %q", resp.StatusCode, body)
	}
	if resp, _ = do(t, "GET", srv.URL+"/api/v1/get/"+upper, map[string]string{"If-None-Match": etag}, ""); resp.StatusCode != 304 {
		t.Fatalf("if-none-match: %d", resp.StatusCode)
	}
	if resp, _ = do(t, "GET", srv.URL+"/api/v1/get/"+upper, map[string]string{"Range": "bytes=50-60"}, ""); resp.StatusCode != 416 {
		t.Fatalf("bad range: %d", resp.StatusCode)
	}
	resp, body = do(t, "POST", srv.URL+"/api/v1/delete/"+upper, nil, "")
	if resp.StatusCode != 200 || resp.Header.Get("X-Meta-Deleted") != "true" {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(t, "GET", srv.URL+"/api/v1/get/"+upper, nil, "")
	if resp.StatusCode != 404 || resp.Header.Get("X-Meta-Deleted") != "true" {
		t.Fatalf("get after delete: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = do(t, "GET", srv.URL+"/api/v1/meta/"+upper, nil, "")
	var m metaJSON
	if err := json.Unmarshal([]byte(body), &m); err != nil || resp.StatusCode != 404 || !m.IsDeleted || m.ID != upper {
		t.Fatalf("meta after delete: %d %s %v", resp.StatusCode, body, err)
	}
}

func TestBadRequestsAreRefusedWithOneLine(t *testing.T) {
	srv := newServer(t, 16)
	id := ulid.Make().String()
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		body               string
		want               int
	}{
		{"missing id", "POST", "/api/v1/put", nil, "x", 400},
		{"bad id", "POST", "/api/v1/put", map[string]string{"X-Meta-ID": "not-a-ulid"}, "x", 400},
		{"bad level", "POST", "/api/v1/put", map[string]string{"X-Meta-ID": id, "X-Meta-ConsistencyLevel": "3"}, "x", 400},
		{"bad user meta", "POST", "/api/v1/put", map[string]string{"X-Meta-ID": id, "X-Meta-UserMeta": `{"a":`}, "x", 400},
		{"user meta not an object", "POST", "/api/v1/put", map[string]string{"X-Meta-ID": id, "X-Meta-UserMeta": `[1]`}, "x", 400},
		{"user meta too large", "POST", "/api/v1/put", map[string]string{"X-Meta-ID": id, "X-Meta-UserMeta": `{"a":"` + strings.Repeat("x", 1100) + `"}`}, "x", 400},
		{"body too large", "POST", "/api/v1/put", map[string]string{"X-Meta-ID": id}, strings.Repeat("x", 17), 413},
		{"dot segments", "GET", "/api/v1/get/../../etc/passwd", nil, "", 400},
		{"encoded slash", "GET", "/api/v1/get/..%2F..%2Fetc%2Fpasswd", nil, "", 400},
		{"bad id in get", "GET", "/api/v1/get/abc", nil, "", 400},
		{"bad id in meta", "GET", "/api/v1/meta/abc", nil, "", 400},
		{"bad id in delete", "POST", "/api/v1/delete/abc", nil, "", 400},
		{"bad write mode", "POST", "/api/v1/put", map[string]string{"X-Meta-ID": id, "X-Meta-Write": "later"}, "x", 400},
		{"bad write mode in delete", "POST", "/api/v1/delete/" + id, map[string]string{"X-Meta-Write": "later"}, "", 400},
		{"unknown object", "GET", "/api/v1/get/" + ulid.Make().String(), nil, "", 404},
		{"unknown route", "GET", "/api/v1/nope", nil, "", 404},
		{"wrong method", "GET", "/api/v1/put", nil, "", 405},
		{"wrong method on get", "DELETE", "/api/v1/get/" + id, nil, "", 405},
		{"level without header", "POST", "/api/v1/level/" + id, nil, "", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, srv.URL+tc.path, tc.hdr, tc.body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want != 404 && tc.want != 405 && (strings.Count(body, "\n") != 1 || !strings.HasPrefix(body, "error: ")) {
				t.Fatalf("reason is not one line: %q", body)
			}
			if strings.HasPrefix(tc.name, "bad write mode") && !strings.Contains(body, `invalid write mode "later" (want through or back)`) {
				t.Fatalf("reason %q does not name the write mode", body)
			}
		})
	}
	if resp, _ := do(t, "GET", srv.URL+"/api/v1/get/"+id, nil, ""); resp.StatusCode != 404 {
		t.Fatalf("a refused request wrote the object: %d", resp.StatusCode)
	}
}

func TestLevelEndpoint(t *testing.T) {
	srv := newServer(t, 0)
	id := ulid.Make().String()
	if resp, body := do(t, "POST", srv.URL+"/api/v1/put", map[string]string{"X-Meta-ID": id}, "abc"); resp.StatusCode != 200 {
		t.Fatalf("put: %d %s", resp.StatusCode, body)
	}
	resp, body := do(t, "POST", srv.URL+"/api/v1/level/"+id, map[string]string{"X-Meta-ConsistencyLevel": "2"}, "")
	var m metaJSON
	if err := json.Unmarshal([]byte(body), &m); err != nil || resp.StatusCode != 200 || m.Consistency != 2 || !m.InRemote {
		t.Fatalf("raise: %d %s", resp.StatusCode, body)
	}
	if resp, body = do(t, "POST", srv.URL+"/api/v1/level/"+id, map[string]string{"X-Meta-ConsistencyLevel": "1"}, ""); resp.StatusCode != 409 {
		t.Fatalf("lower: %d %s", resp.StatusCode, body)
	}
	if resp, body = do(t, "POST", srv.URL+"/api/v1/put", map[string]string{"X-Meta-ID": id, "X-Meta-ConsistencyLevel": "0"}, "new"); resp.StatusCode != 409 {
		t.Fatalf("put at lower level: %d %s", resp.StatusCode, body)
	}
}

func TestStatusOf(t *testing.T) {
	for err, want := range map[error]int{
		objstore.ErrInvalidID: 400, objstore.ErrInvalidUserMeta: 400, objstore.ErrIncomplete: 400,
		objstore.ErrNotFound: 404, objstore.ErrDeleted: 404, objstore.ErrLevelLowered: 409,
		objstore.ErrTooLarge: 413, &http.MaxBytesError{Limit: 1}: 413, objstore.ErrInsufficientStorage: 507,
		objstore.ErrNoRemote: 502, objstore.ErrChecksum: 502, context.Canceled: 503, errors.New("x"): 500,
		fmt.Errorf("%w: %w", objstore.ErrNoRemote, objstore.ErrTimeout): 504, objstore.ErrLost: 500,
	} {
		if got := statusOf(fmt.Errorf("wrapped: %w", err)); got != want {
			t.Errorf("statusOf(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestHeaderSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain.txt": "plain.txt", "ü": `\u00fc`, "a\nb": `a\u000ab`, "😀": `\ud83d\ude00`,
	} {
		if got := headerSafe(in); got != want {
			t.Errorf("headerSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
