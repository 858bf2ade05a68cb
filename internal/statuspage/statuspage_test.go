package statuspage

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/savings"
)

// statsOf is node stats whose savings tally holds the given reads.
func statsOf(t *testing.T, hits, origin, misses int64, size int64) node.Stats {
	t.Helper()
	tally := savings.New()
	for range hits {
		tally.Add("b", savings.Disk, size)
	}
	for range origin {
		tally.Add("b", savings.Origin, size)
	}
	return node.Stats{NodeID: "N1", Savings: tally.Snapshot(), Misses: misses}
}

func TestSampleOfCountsHitsOriginAndBytes(t *testing.T) {
	tally := savings.New()
	for _, k := range []savings.Kind{savings.Memory, savings.MemoryPeer, savings.Disk, savings.Peer, savings.Coalesced} {
		tally.Add("b", k, 10)
	}
	tally.Add("b", savings.Origin, 100)
	tally.Add("b", savings.Warm, 1000) // the cache's own traffic: not a read served
	s := SampleOf(time.Unix(5, 0), node.Stats{Savings: tally.Snapshot(), Misses: 3}, savings.DefaultPrices())
	if s.Hits != 5 || s.Origin != 1 || s.Misses != 3 || s.Bytes != 150 || s.Reads() != 6 {
		t.Fatalf("sample = %+v, want 5 hits, 1 origin, 3 misses, 150 bytes", s)
	}
	if s.USDSaved == 0 {
		t.Fatalf("sample saved nothing: %+v", s)
	}
}

func TestPointsRatesAndGaps(t *testing.T) {
	t0 := time.Unix(1000, 0)
	samples := []Sample{
		{At: t0},
		{At: t0.Add(2 * time.Second), Hits: 6, Origin: 2, Bytes: 800, Misses: 2},
		{At: t0.Add(4 * time.Second), Hits: 6, Origin: 2, Bytes: 800, Misses: 2},
		{At: t0.Add(5 * time.Second)}, // counters went back: another process
		{At: t0.Add(6 * time.Second), Hits: 1},
	}
	ps := Points(samples)
	if len(ps) != 3 {
		t.Fatalf("got %d points, want 3 (the span going back left out): %+v", len(ps), ps)
	}
	p := ps[0]
	if p.ReadsPerSec != 4 || p.BytesPerSec != 400 || p.MissesPerSec != 1 || p.HitRatio != 0.75 || p.Seconds != 2 {
		t.Fatalf("first point = %+v", p)
	}
	if ps[1].HitRatio != -1 || ps[1].ReadsPerSec != 0 {
		t.Fatalf("idle span = %+v, want no ratio and no reads", ps[1])
	}
	if ps[2].At != t0.Add(6*time.Second).UnixMilli() || ps[2].HitRatio != 1 {
		t.Fatalf("last point = %+v", ps[2])
	}
}

// fakeSource counts the stats it was asked for.
type fakeSource struct {
	calls atomic.Int64
	err   error
}

func (f *fakeSource) Stats(ctx context.Context) (node.Stats, error) {
	n := f.calls.Add(1)
	return node.Stats{Misses: n}, f.err
}

func TestSamplerRingKeepsTheNewest(t *testing.T) {
	s, err := NewSampler(Config{Samples: 3}, &fakeSource{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		s.Add(Sample{Misses: int64(i)})
	}
	got := s.Samples()
	if len(got) != 3 || got[0].Misses != 2 || got[2].Misses != 4 {
		t.Fatalf("samples = %+v, want misses 2, 3, 4", got)
	}
	if w := s.Window(); w != 3*DefaultInterval {
		t.Fatalf("window = %s", w)
	}
}

// TestSamplerSamplesUntilClosed runs on synctest's fake clock: a sample at
// Start, one per interval, none after Close.
func TestSamplerSamplesUntilClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{}
		s, err := NewSampler(Config{Interval: time.Second, Samples: 4}, src)
		if err != nil {
			t.Fatal(err)
		}
		s.Start(t.Context())
		if n := len(s.Samples()); n != 1 {
			t.Fatalf("Start took %d samples, want 1 at once", n)
		}
		time.Sleep(5*time.Second + time.Millisecond)
		synctest.Wait()
		if n := src.calls.Load(); n != 6 {
			t.Fatalf("sampled %d times in 5 s at 1 s, want 6", n)
		}
		got := s.Samples()
		if len(got) != 4 || got[0].Misses != 3 || got[3].Misses != 6 {
			t.Fatalf("kept %+v, want the last 4 samples", got)
		}
		s.Close()
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := src.calls.Load(); n != 6 {
			t.Fatalf("sampled %d times, went on after Close", n)
		}
	})
}

func TestSamplerSkipsFailedStats(t *testing.T) {
	s, err := NewSampler(Config{}, &fakeSource{err: errors.New("journal closed")})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(t.Context())
	s.Close()
	if n := len(s.Samples()); n != 0 {
		t.Fatalf("kept %d samples of failed stats", n)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Interval: -1}, {Interval: time.Millisecond}, {Samples: -1}} {
		if _, err := NewSampler(c, &fakeSource{}); err == nil {
			t.Errorf("NewSampler(%+v) accepted it", c)
		}
	}
}

func TestBuild(t *testing.T) {
	t0 := time.Unix(2000, 0)
	st := statsOf(t, 9, 1, 4, 1<<20)
	st.Disk = objstore.DiskUsage{Bodies: 10 << 20, Quota: 40 << 20, Total: 1 << 30, Used: 1 << 29}
	st.Cache = &node.CacheStats{Policy: "s3fifo", Capacity: 40 << 20, PinnedBytes: 1 << 20, Evictions: 7}
	st.Origin = &objstore.OriginHealth{State: objstore.OriginOK}
	members := []objstore.Member{{ID: "N3", State: "dead"}, {ID: "N2", State: "alive"}, {ID: "N1", State: "alive", Self: true}}
	r := Build(Input{
		Now: t0.Add(3 * time.Second), Version: "1.2.3", Stats: st, Members: members,
		Samples:  []Sample{{At: t0.Add(-5 * time.Second)}, {At: t0}},
		Interval: 5 * time.Second, Window: 15 * time.Minute, Prices: savings.DefaultPrices(),
	})
	if got := []string{r.Members[0].ID, r.Members[1].ID, r.Members[2].ID}; got[0] != "N1" || got[1] != "N2" || got[2] != "N3" {
		t.Fatalf("members in order %v, want self first then by ID", got)
	}
	if r.Reads.Hits != 9 || r.Reads.Origin != 1 || r.Reads.Misses != 4 || r.Reads.HitRatio != 0.9 {
		t.Fatalf("reads = %+v", r.Reads)
	}
	if len(r.History) != 2 {
		t.Fatalf("history has %d points, want the sampled span and the live one", len(r.History))
	}
	live := r.History[1]
	if live.Seconds != 3 || live.ReadsPerSec != 10.0/3 || live.HitRatio != 0.9 {
		t.Fatalf("live point = %+v", live)
	}
	if r.Savings.GetsAvoided != 9 || r.Savings.USD <= 0 {
		t.Fatalf("savings = %+v", r.Savings)
	}
	if r.Disk.Quota != 40<<20 || r.Disk.Bodies != 10<<20 || r.Disk.Policy != "s3fifo" || r.Disk.Evictions != 7 {
		t.Fatalf("disk = %+v", r.Disk)
	}
	if r.WindowSeconds != 900 || r.IntervalSeconds != 5 || r.Version != "1.2.3" || r.NodeID != "N1" {
		t.Fatalf("report = %+v", r)
	}
	// A last sample younger than a second gets no live point: too short
	// a span to be a rate.
	r = Build(Input{Now: t0.Add(200 * time.Millisecond), Stats: st, Samples: []Sample{{At: t0.Add(-5 * time.Second)}, {At: t0}}})
	if len(r.History) != 1 {
		t.Fatalf("history has %d points, want the sampled span only", len(r.History))
	}
	if r = Build(Input{Now: t0}); r.Members == nil || r.Reads.HitRatio != -1 {
		t.Fatalf("empty report: members %v, hit ratio %v", r.Members, r.Reads.HitRatio)
	}
}

func TestPageServesEmbeddedAssetsOnly(t *testing.T) {
	p, err := NewPage()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PagePath, p.ServeIndex)
	mux.HandleFunc("GET "+PagePath+"/{file}", p.ServeAsset)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	index := get(t, srv.URL+PagePath, http.StatusOK)
	if ct := index.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("page content type %q", ct)
	}
	if csp := index.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Fatalf("page CSP %q", csp)
	}
	// Every asset the page names is served, from this origin.
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(index.body, -1)
	if len(refs) < 3 {
		t.Fatalf("page names %d assets", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if strings.HasPrefix(ref, "/api/") {
			continue // the node's JSON, linked for people
		}
		if !strings.HasPrefix(ref, PagePath+"/") {
			t.Errorf("page refers to %q, not one of its own assets", ref)
			continue
		}
		get(t, srv.URL+ref, http.StatusOK)
	}
	get(t, srv.URL+PagePath+"/nothing.js", http.StatusNotFound)
	// No asset loads anything from elsewhere: the only URLs in them are
	// the SVG namespace.
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for name, a := range p.files {
		for _, u := range url.FindAllString(string(a.body), -1) {
			if u != "http://www.w3.org" {
				t.Errorf("%s names %s", name, u)
			}
		}
	}
	// Unchanged assets are revalidated, not sent again.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+PagePath+"/app.js", nil)
	req.Header.Set("If-None-Match", p.files["app.js"].etag)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation answered %d", resp.StatusCode)
	}
}

type page struct {
	Header http.Header
	body   string
}

func get(t *testing.T, url string, want int) page {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %s", url, resp.StatusCode, want, b)
	}
	return page{Header: resp.Header, body: string(b)}
}
