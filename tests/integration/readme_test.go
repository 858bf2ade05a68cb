package integration

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
)

// TestReadmeSession replays the seed README's curl session against one node.
func TestReadmeSession(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)

	r := n.Do(t, http.MethodGet, "/api/v1/id", nil)
	wantStatus(t, r, http.StatusOK, "GET /api/v1/id")
	id := strings.TrimSpace(string(r.Body))
	if _, err := ulid.ParseStrict(id); err != nil || len(id) != 26 {
		t.Fatalf("GET /api/v1/id = %q: not a 26-character ULID (%v)", r.Body, err)
	}
	objects := n.ObjectCount(t)

	body := []byte("It works!\n")
	put := n.Put(t, id, 2, body, "X-Meta-Name", "test.txt")
	wantStatus(t, put, http.StatusOK, "PUT")
	if got := n.ObjectCount(t); got != objects+1 {
		t.Errorf("stats objects after PUT = %d, want %d", got, objects+1)
	}

	get := n.MustGet(t, id, body)
	want := map[string]string{
		"Accept-Ranges":           "bytes",
		"Content-Length":          "10",
		"Content-Type":            "text/plain; charset=utf-8",
		"X-Meta-Consistencylevel": "2",
		"X-Meta-Id":               id,
		"X-Meta-Name":             "test.txt",
	}
	for k, v := range want {
		wantHeader(t, get, k, v, "GET")
	}
	if get.Header.Get("ETag") == "" {
		t.Error("GET: no ETag")
	}
	checkLastModified(t, get)

	head := n.Do(t, http.MethodHead, "/api/v1/get/"+id, nil)
	wantStatus(t, head, http.StatusOK, "HEAD")
	if len(head.Body) != 0 {
		t.Errorf("HEAD: body of %d bytes", len(head.Body))
	}
	for _, k := range []string{"Accept-Ranges", "Content-Length", "Content-Type", "ETag", "Last-Modified",
		"X-Meta-Consistencylevel", "X-Meta-Id", "X-Meta-Name"} {
		wantHeader(t, head, k, get.Header.Get(k), "HEAD")
	}

	m := n.Meta(t, id)
	if m.FileID != id || m.FileName != "test.txt" || m.FileSize != 10 || m.Consistency != 2 || m.IsDeleted {
		t.Errorf("meta = %+v, want id %s, name test.txt, size 10, consistency 2, not deleted", m, id)
	}

	checkVersion(t, n)
	checkStats(t, n)

	del := n.Do(t, http.MethodPost, "/api/v1/delete/"+id, nil)
	wantStatus(t, del, http.StatusOK, "DELETE")
	gone := n.Get(t, id)
	wantStatus(t, gone, http.StatusNotFound, "GET after delete")
	wantHeader(t, gone, "X-Meta-Deleted", "true", "GET after delete")
	if got := n.ObjectCount(t); got != objects {
		t.Errorf("stats objects after DELETE = %d, want %d", got, objects)
	}

	// The node's ID is persisted in the state dir: a restart keeps it.
	nodeID := n.NodeID(t)
	n.Restart(t)
	if again := n.NodeID(t); again != nodeID {
		t.Errorf("node id after restart = %s, want %s", again, nodeID)
	}
	gone = n.Get(t, id)
	wantStatus(t, gone, http.StatusNotFound, "GET after delete and restart")
}

func checkLastModified(t *testing.T, r *response) {
	t.Helper()
	lm, err := http.ParseTime(r.Header.Get("Last-Modified"))
	if err != nil {
		t.Errorf("Last-Modified %q: %v", r.Header.Get("Last-Modified"), err)
		return
	}
	if d := time.Since(lm); d > time.Minute || d < -time.Minute {
		t.Errorf("Last-Modified %v is %v away from now", lm, d)
	}
}

func checkVersion(t *testing.T, n *Node) {
	t.Helper()
	r := n.Do(t, http.MethodGet, "/api/v1/version", nil)
	wantStatus(t, r, http.StatusOK, "GET /api/v1/version")
	if v := strings.TrimSpace(string(r.Body)); v == "" || v == "dev" {
		t.Errorf("version = %q, want a real version", v)
	}
}

func checkStats(t *testing.T, n *Node) {
	t.Helper()
	s := n.Stats(t)
	disk, ok := s["disk_stats"].(map[string]any)
	if !ok {
		t.Fatalf("stats: no disk_stats object in %v", s)
	}
	for _, unit := range []string{"bytes", "kb", "mb", "gb"} {
		for _, what := range []string{"all", "used", "free"} {
			k := unit + "_" + what
			if _, ok := disk[k].(float64); !ok {
				t.Errorf("stats: disk_stats.%s missing or not a number in %v", k, disk)
			}
		}
	}
	if all, _ := disk["bytes_all"].(float64); all <= 0 {
		t.Errorf("stats: disk_stats.bytes_all = %v, want > 0", disk["bytes_all"])
	}
}

// TestUserMetaRoundTrip checks that X-Meta-UserMeta comes back in the meta JSON.
func TestUserMetaRoundTrip(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	id := newID()
	n.MustPut(t, id, 0, []byte("meta"), "X-Meta-Name", "m.bin", "X-Meta-UserMeta", `{"owner":"ann","n":3}`)
	wantUserMeta(t, n.Meta(t, id), map[string]any{"owner": "ann", "n": 3.0})
}

func wantUserMeta(t testing.TB, m meta, want map[string]any) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(m.UserMeta, &got); err != nil {
		t.Fatalf("meta user_meta %s: %v", m.UserMeta, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("meta user_meta = %v, want %v", got, want)
	}
}

// TestRangesAndConditionals checks byte ranges and conditional GETs.
func TestRangesAndConditionals(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	body := randomBody(1, 1000)
	id := newID()
	n.MustPut(t, id, 0, body, "X-Meta-Name", "r.bin")
	full := n.MustGet(t, id, body)
	etag := full.Header.Get("ETag")
	if etag == "" {
		t.Fatal("GET: no ETag")
	}

	r := n.Get(t, id, "Range", "bytes=2-5")
	wantStatus(t, r, http.StatusPartialContent, "GET Range: bytes=2-5")
	wantBody(t, r.Body, body[2:6], "GET Range: bytes=2-5")
	wantHeader(t, r, "Content-Range", fmt.Sprintf("bytes 2-5/%d", len(body)), "GET Range: bytes=2-5")
	wantHeader(t, r, "Content-Length", "4", "GET Range: bytes=2-5")

	r = n.Get(t, id, "Range", "bytes=990-")
	wantStatus(t, r, http.StatusPartialContent, "GET Range: bytes=990-")
	wantBody(t, r.Body, body[990:], "GET Range: bytes=990-")

	r = n.Get(t, id, "Range", "bytes=5000-6000")
	wantStatus(t, r, http.StatusRequestedRangeNotSatisfiable, "GET Range: bytes=5000-6000")

	r = n.Get(t, id, "If-None-Match", etag)
	wantStatus(t, r, http.StatusNotModified, "GET If-None-Match: "+etag)
	if len(r.Body) != 0 {
		t.Errorf("304 with a body of %d bytes", len(r.Body))
	}
	r = n.Get(t, id, "If-None-Match", `"not-the-etag"`)
	wantStatus(t, r, http.StatusOK, "GET If-None-Match: other")

	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	r = n.Get(t, id, "If-Modified-Since", future)
	wantStatus(t, r, http.StatusNotModified, "GET If-Modified-Since: "+future)
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	r = n.Get(t, id, "If-Modified-Since", past)
	wantStatus(t, r, http.StatusOK, "GET If-Modified-Since: "+past)
	wantHeader(t, r, "Content-Length", strconv.Itoa(len(body)), "GET If-Modified-Since: past")
}

// randomBody is n pseudo-random bytes, the same for the same seed.
func randomBody(seed uint64, n int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b) // ChaCha8.Read always fills b
	return b
}
