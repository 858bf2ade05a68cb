package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"
)

// response is a whole HTTP response, its body read.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) String() string {
	body := string(r.Body)
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	return fmt.Sprintf("%d %s %q", r.Status, http.StatusText(r.Status), body)
}

// do sends one request to the node. hdr holds header names and values in
// turn. It is safe for concurrent use and does not touch a testing.TB.
func (n *Node) do(method, path string, body io.Reader, hdr ...string) (*response, error) {
	req, err := http.NewRequest(method, n.URL(path), body)
	if err != nil {
		return nil, err
	}
	if len(hdr)%2 != 0 {
		return nil, fmt.Errorf("odd header list %q", hdr)
	}
	for i := 0; i < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return n.send(req)
}

// send sends req and reads the whole response.
func (n *Node) send(req *http.Request) (*response, error) {
	resp, err := n.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read-only body, fully read below
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// sumGet sends a GET and hashes the body as it arrives instead of keeping
// it, for large bodies read by many clients at once.
func (n *Node) sumGet(path string, hdr ...string) (status int, sha string, size int64, err error) {
	req, err := http.NewRequest(http.MethodGet, n.URL(path), nil)
	if err != nil {
		return 0, "", 0, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := n.Client.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	defer func() { _ = resp.Body.Close() }() // read-only body, fully read below
	h := sha256.New()
	size, err = io.Copy(h, resp.Body)
	if err != nil {
		return resp.StatusCode, "", size, fmt.Errorf("GET %s: read body: %w", path, err)
	}
	return resp.StatusCode, hex.EncodeToString(h.Sum(nil)), size, nil
}

// Do is do that fails the test on a transport error.
func (n *Node) Do(t testing.TB, method, path string, body []byte, hdr ...string) *response {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	resp, err := n.do(method, path, r, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// Put uploads body as id at level with POST /api/v1/put; hdr adds headers.
func (n *Node) Put(t testing.TB, id string, level int, body []byte, hdr ...string) *response {
	t.Helper()
	return n.Do(t, http.MethodPost, "/api/v1/put", body, putHeaders(id, level, hdr...)...)
}

func putHeaders(id string, level int, hdr ...string) []string {
	return append([]string{"X-Meta-ID", id, "X-Meta-ConsistencyLevel", strconv.Itoa(level)}, hdr...)
}

// MustPut is Put that requires a 200.
func (n *Node) MustPut(t testing.TB, id string, level int, body []byte, hdr ...string) {
	t.Helper()
	wantStatus(t, n.Put(t, id, level, body, hdr...), http.StatusOK, "PUT "+id)
}

// Get reads id with GET /api/v1/get/<id>.
func (n *Node) Get(t testing.TB, id string, hdr ...string) *response {
	t.Helper()
	return n.Do(t, http.MethodGet, "/api/v1/get/"+id, nil, hdr...)
}

// MustGet is Get that requires a 200 with the body want.
func (n *Node) MustGet(t testing.TB, id string, want []byte, hdr ...string) *response {
	t.Helper()
	r := n.Get(t, id, hdr...)
	wantStatus(t, r, http.StatusOK, "GET "+id)
	wantBody(t, r.Body, want, "GET "+id)
	return r
}

// NewID asks the node for an id.
func (n *Node) NewID(t testing.TB) string {
	t.Helper()
	r := n.Do(t, http.MethodGet, "/api/v1/id", nil)
	wantStatus(t, r, http.StatusOK, "GET /api/v1/id")
	return strings.TrimSpace(string(r.Body))
}

// NodeID is the node's ID as /api/v1/ping reports it.
func (n *Node) NodeID(t testing.TB) string {
	t.Helper()
	r := n.Do(t, http.MethodGet, "/api/v1/ping", nil)
	wantStatus(t, r, http.StatusOK, "GET /api/v1/ping")
	id := strings.TrimSpace(string(r.Body))
	if len(id) != ulid.EncodedSize {
		t.Fatalf("ping: node id %q is not %d characters", id, ulid.EncodedSize)
	}
	return id
}

// meta is the JSON of GET /api/v1/meta/<id>.
type meta struct {
	FileID      string          `json:"file_id"`
	FileName    string          `json:"file_name"`
	FileSize    int64           `json:"file_size"`
	Consistency int             `json:"consistency"`
	IsDeleted   bool            `json:"is_deleted"`
	UserMeta    json.RawMessage `json:"user_meta"`
}

// Meta reads GET /api/v1/meta/<id>, which must answer 200 with the seed's
// field names present.
func (n *Node) Meta(t testing.TB, id string) meta {
	t.Helper()
	r := n.Do(t, http.MethodGet, "/api/v1/meta/"+id, nil)
	wantStatus(t, r, http.StatusOK, "GET /api/v1/meta/"+id)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &fields); err != nil {
		t.Fatalf("meta %s: %v in %s", id, err, r.Body)
	}
	for _, k := range []string{"file_id", "file_name", "file_size", "consistency", "is_deleted"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("meta %s: no %q in %s", id, k, r.Body)
		}
	}
	var m meta
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("meta %s: %v in %s", id, err, r.Body)
	}
	return m
}

// Stats reads GET /api/v1/stats.
func (n *Node) Stats(t testing.TB) map[string]any {
	t.Helper()
	r := n.Do(t, http.MethodGet, "/api/v1/stats", nil)
	wantStatus(t, r, http.StatusOK, "GET /api/v1/stats")
	var s map[string]any
	if err := json.Unmarshal(r.Body, &s); err != nil {
		t.Fatalf("stats: %v in %s", err, r.Body)
	}
	return s
}

// ObjectCount is the live object count that /api/v1/stats reports: the first
// number named "objects" found in its JSON.
func (n *Node) ObjectCount(t testing.TB) int64 {
	t.Helper()
	s := n.Stats(t)
	v, ok := findNumber(s, "objects")
	if !ok {
		t.Fatalf("stats has no numeric \"objects\": %v", s)
	}
	return int64(v)
}

// findNumber looks for a number under key anywhere in a decoded JSON value,
// breadth first.
func findNumber(v any, key string) (float64, bool) {
	queue := []any{v}
	for len(queue) > 0 {
		m, ok := queue[0].(map[string]any)
		queue = queue[1:]
		if !ok {
			continue
		}
		if f, ok := m[key].(float64); ok {
			return f, true
		}
		for _, child := range m {
			queue = append(queue, child)
		}
	}
	return 0, false
}

func wantStatus(t testing.TB, r *response, want int, what string) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: got %s, want %d", what, r, want)
	}
}

func wantBody(t testing.TB, got, want []byte, what string) {
	t.Helper()
	if sum(got) != sum(want) {
		t.Fatalf("%s: body of %d bytes, sha256 %s; want %d bytes, sha256 %s",
			what, len(got), sum(got)[:12], len(want), sum(want)[:12])
	}
}

func wantHeader(t testing.TB, r *response, name, want, what string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("%s: %s = %q, want %q", what, name, got, want)
	}
}

// sum is the hex SHA-256 of b.
func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// newID is a fresh ULID.
func newID() string { return ulid.Make().String() }
