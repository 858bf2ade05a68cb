package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/journal"
	"sphere.software/objstore/internal/localdir"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/savings"
	"sphere.software/objstore/internal/warm"
)

// newWarmServer serves the native API with warm-up over a node whose local
// directory origin holds bucket "media" with keys a/1, a/2 and b/1, written
// there directly (not through the node).
func newWarmServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for key, body := range map[string]string{"a/1": "one", "a/2": "two!", "b/1": "other"} {
		p := filepath.Join(dir, "origin", "media", filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
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
	n, err := node.New(context.Background(), node.Config{NodeID: j.NodeID(), HotCacheBytes: 1 << 20}, j, node.AdaptBlobs(blobs), origin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	wm, err := warm.New(warm.Config{}, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wm.Close(context.Background()) }) // runs before the node closes
	srv, _ := serveFast(t, NewNative(Config{Bucket: "bkt", Version: "test", Warm: wm, Prices: savings.DefaultPrices()}, n))
	return srv.URL
}

func TestWarmEndpointRejectsBadInput(t *testing.T) {
	url := newWarmServer(t)
	tests := []struct {
		name, body string
		status     int
		says       string
	}{
		{"missing bucket", `{"bucket":"nope","prefix":""}`, http.StatusNotFound, "no such bucket"},
		{"no bucket", `{"prefix":"a/"}`, http.StatusBadRequest, "bucket is required"},
		{"both", `{"bucket":"media","prefix":"a/","keys":["a/1"]}`, http.StatusBadRequest, "not both"},
		{"neither", `{"bucket":"media"}`, http.StatusBadRequest, "give prefix"},
		{"concurrency", `{"bucket":"media","prefix":"","concurrency":1000}`, http.StatusBadRequest, "concurrency 1000"},
		{"not JSON", `bucket=media`, http.StatusBadRequest, "warm-up request"},
		{"unknown field", `{"bucket":"media","prefix":"","depth":3}`, http.StatusBadRequest, "depth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, "POST", url+"/api/v1/warm", nil, tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.says) {
				t.Fatalf("%d %q, want %d saying %q", resp.StatusCode, body, tc.status, tc.says)
			}
		})
	}
	if resp, body := do(t, "GET", url+"/api/v1/warm/NOSUCHJOB", nil, ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown job: %d %q", resp.StatusCode, body)
	}
	resp, body := do(t, "POST", url+"/api/v1/warm", nil, `{"bucket":"media","keys":["a/1"]}`)
	var p warm.Progress
	if err := json.Unmarshal([]byte(body), &p); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %d %q", resp.StatusCode, body)
	}
	if resp, body := do(t, "GET", url+"/api/v1/warm/"+p.ID+"?wait=2h", nil, ""); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("wait of 2h: %d %q", resp.StatusCode, body)
	}
}

// A prefix is warmed: the job reports its keys and bytes, and the reads
// that follow are served from the cache, counted as savings.
func TestWarmPrefixThenStatsShowSavings(t *testing.T) {
	url := newWarmServer(t)
	resp, body := do(t, "POST", url+"/api/v1/warm", nil, `{"bucket":"media","prefix":"a/","concurrency":2}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %d %q", resp.StatusCode, body)
	}
	var p warm.Progress
	if err := json.Unmarshal([]byte(body), &p); err != nil || resp.Header.Get("Location") != "/api/v1/warm/"+p.ID {
		t.Fatalf("start answer %q, Location %q: %v", body, resp.Header.Get("Location"), err)
	}
	p = pollWarm(t, url, p.ID)
	if p.State != warm.StateDone || p.Listed != 2 || p.Done != 2 || p.Failed != 0 || p.BytesFetched != 7 {
		t.Fatalf("job ended %+v", p)
	}
	// Nobody has read the warmed keys yet: the warm-up cost money.
	var st struct{ Savings savings.Report }
	_, body = do(t, "GET", url+"/api/v1/stats", nil, "")
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	m := st.Savings.ByBucket["media"]
	if m.Warm != (savings.Count{Requests: 2, Bytes: 7}) || st.Savings.Prices.EgressPerGB != 0.09 || st.Savings.USDSaved >= 0 {
		t.Fatalf("savings after a warm-up nobody read yet: %+v", st.Savings)
	}
}

// pollWarm waits for job id to end, with ?wait.
func pollWarm(t *testing.T, url, id string) warm.Progress {
	t.Helper()
	for {
		resp, body := do(t, "GET", url+"/api/v1/warm/"+id+"?wait=10s", nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("poll: %d %q", resp.StatusCode, body)
		}
		var p warm.Progress
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		if p.State != warm.StateRunning {
			return p
		}
	}
}
