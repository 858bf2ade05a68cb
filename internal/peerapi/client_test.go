package peerapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
)

func TestPush(t *testing.T) {
	ctx := context.Background()
	local := newFake(t)
	m, wire := serve(t, local)
	c := newClient()
	recs := []objstore.Record{
		testRecord(objstore.Key{Bucket: "b", ID: "x"}, 5, "n"),
		tombstone(objstore.Key{Bucket: "b", ID: "y"}, 6, "n"),
	}
	if err := c.Push(ctx, m, recs); err != nil {
		t.Fatal(err)
	}
	want := map[objstore.Key]objstore.Record{recs[0].Key: recs[0], recs[1].Key: recs[1]}
	if !reflect.DeepEqual(local.snapshot(), want) {
		t.Fatalf("peer holds %+v", local.snapshot())
	}
	if err := c.Push(ctx, m, nil); err != nil || wire.requests.Load() != 1 {
		t.Fatalf("empty push: %v, %d requests in all", err, wire.requests.Load())
	}
}

func TestPushFailures(t *testing.T) {
	ctx := context.Background()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpError(w, http.StatusInternalServerError, "journal: disk on fire")
	}))
	defer failing.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	recs := []objstore.Record{testRecord(objstore.Key{Bucket: "b", ID: "x"}, 5, "n")}
	c := newClient()

	err := c.Push(ctx, objstore.Member{Addr: strings.TrimPrefix(failing.URL, "http://")}, recs)
	if !errors.Is(err, ErrPeer) || !strings.Contains(err.Error(), "500 Internal Server Error: journal: disk on fire") {
		t.Errorf("failing peer: %v", err)
	}
	err = c.Push(ctx, objstore.Member{Addr: strings.TrimPrefix(closed.URL, "http://")}, recs)
	if !errors.Is(err, ErrPeer) {
		t.Errorf("unreachable peer: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = c.Push(cancelled, objstore.Member{Addr: strings.TrimPrefix(failing.URL, "http://")}, recs)
	if !errors.Is(err, ErrPeer) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// A peer whose digests do not decode fails the sync.
	_, err = node.Sync(ctx, newFake(t), c, objstore.Member{Addr: strings.TrimPrefix(failing.URL, "http://")})
	if !errors.Is(err, ErrPeer) {
		t.Errorf("sync with a failing peer: %v", err)
	}
}

func TestSyncBadAnswer(t *testing.T) {
	short := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(make([]byte, 100))
	}))
	defer short.Close()
	_, err := node.Sync(context.Background(), newFake(t), newClient(), objstore.Member{Addr: strings.TrimPrefix(short.URL, "http://")})
	if !errors.Is(err, ErrPeer) || !errors.Is(err, ErrMalformed) {
		t.Errorf("short digests: %v", err)
	}
}

// hostileKeys are keys S3 allows that break naive URL building.
var hostileKeys = []objstore.Key{
	{Bucket: "b", ID: "plain"},
	{Bucket: "b", ID: ".."},
	{Bucket: "b", ID: "."},
	{Bucket: "..", ID: "x"},
	{Bucket: "b", ID: "a/../../etc/passwd"},
	{Bucket: "b", ID: "/leading/slash"},
	{Bucket: "b", ID: "trailing/"},
	{Bucket: "b", ID: "a//b"},
	{Bucket: "b", ID: "%2F%2e%2e"},
	{Bucket: "b", ID: "%"},
	{Bucket: "b", ID: "q?v=0000000000000001-x&v=2#frag"},
	{Bucket: "b", ID: "sp ace+plus"},
	{Bucket: "b", ID: "line\r\nbreak"},
	{Bucket: "b", ID: "nul\x00byte"},
	{Bucket: "b", ID: "\xff\xfe invalid utf-8"},
	{Bucket: "b", ID: "é/💾/中文"},
	{Bucket: "b", ID: strings.Repeat("long/", 200)},
	{Bucket: "bucket.with-dots", ID: "x"},
}

func TestOpenBody(t *testing.T) {
	ctx := context.Background()
	local := newFake(t)
	// Mounted the way internal/cluster serves it: behind an outer mux.
	outer := http.NewServeMux()
	outer.Handle("/private/", NewHandler(local, nil))
	srv := httptest.NewServer(outer)
	defer srv.Close()
	m := objstore.Member{Addr: strings.TrimPrefix(srv.URL, "http://")}
	c := newClient()
	v := objstore.Version{HLC: 0x1234, Node: "node-with-dash/and?query"}
	for i, key := range hostileKeys {
		body := "body of " + key.String() + " number " + string(rune('A'+i))
		local.put(testRecord(key, 0x1234, v.Node))
		local.putBody(key, v, []byte(body))
		for _, offset := range []int64{0, 5} {
			if got := fetchBody(t, c, m, key, v, offset); got != body[offset:] {
				t.Errorf("%q at %d: got %q, want %q", key, offset, got, body[offset:])
			}
		}
	}
	_, err := c.OpenBody(ctx, m, objstore.Key{Bucket: "b", ID: "missing"}, v, 0)
	if !errors.Is(err, objstore.ErrNotFound) || errors.Is(err, ErrPeer) {
		t.Errorf("missing body: %v", err)
	}
	_, err = c.OpenBody(ctx, m, hostileKeys[0], objstore.Version{HLC: 1, Node: "other"}, 0)
	if !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("other version: %v", err)
	}
	_, err = c.OpenBody(ctx, m, hostileKeys[0], v, 1000)
	if !errors.Is(err, ErrPeer) || !strings.Contains(err.Error(), "416") {
		t.Errorf("offset past the end: %v", err)
	}
}

func fetchBody(t *testing.T, c *Client, m objstore.Member, key objstore.Key, v objstore.Version, offset int64) string {
	t.Helper()
	rc, err := c.OpenBody(context.Background(), m, key, v, offset)
	if err != nil {
		t.Fatalf("%q at %d: %v", key, offset, err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBodyHeaders(t *testing.T) {
	local := newFake(t)
	key := objstore.Key{Bucket: "b", ID: "a/b"}
	rec := testRecord(key, 9, "n")
	rec.Sum.CRC32C = 0xdeadbeef
	local.put(rec)
	local.putBody(key, rec.BodyVersion, []byte("0123456789"))
	h := NewHandler(local, nil)
	w := do(t, h, "GET", bodyURL("x", key, rec.BodyVersion), nil)
	if w.Code != 200 || w.Body.String() != "0123456789" || w.Header().Get("ETag") != rec.Sum.ETag() ||
		w.Header().Get("X-Objstore-Crc32c") != "deadbeef" || w.Header().Get("Accept-Ranges") != "bytes" {
		t.Fatalf("answer %d %q %v", w.Code, w.Body, w.Header())
	}
	// Per-segment escaping (a client that keeps '/') reaches the same body.
	w = do(t, h, "GET", pathBody+"b/a/b?v="+rec.BodyVersion.String(), nil)
	if w.Code != 200 || w.Body.String() != "0123456789" {
		t.Fatalf("per-segment path: %d %q", w.Code, w.Body)
	}
}
