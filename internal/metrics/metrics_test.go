package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/savings"
)

// fakeNode reports fixed figures, as a node would after some traffic.
type fakeNode struct {
	stats   node.Stats
	err     error
	members []objstore.Member
	fresh   node.FreshStats
}

func (f *fakeNode) Stats(context.Context) (node.Stats, error) { return f.stats, f.err }
func (f *fakeNode) Members() []objstore.Member                { return f.members }
func (f *fakeNode) FreshStats() node.FreshStats               { return f.fresh }

type fakeJournal int64

func (j fakeJournal) Size(context.Context) (int64, error) { return int64(j), nil }

func newFakeNode() *fakeNode {
	t := savings.New()
	t.Add("b", savings.Memory, 100)
	t.Add("b", savings.Memory, 100)
	t.Add("b", savings.Disk, 1000)
	t.Add("c", savings.Origin, 5000)
	t.EvictedAt("b", 700)
	f := &fakeNode{members: []objstore.Member{{ID: "a", State: "alive", Self: true}, {ID: "b", State: "alive"}, {ID: "c", State: "dead"}},
		fresh: node.FreshStats{NotModified: 3, Replaced: 1}}
	f.stats = node.Stats{NodeID: "n", Objects: objstore.Counts{Objects: 4, Bytes: 6200, Tombstones: 2}, Misses: 7,
		Disk:       objstore.DiskUsage{Total: 1 << 30, Free: 1 << 29, Used: 1 << 29, Bodies: 6200},
		OriginGets: node.OriginGets{Fills: 1}, Origin: &objstore.OriginHealth{State: objstore.OriginOK},
		Savings: t.Snapshot(), AntiEntropy: node.AntiEntropyStats{Passes: 5, Failed: 1, Received: 9, BytesIn: 4096},
		Cache:     &node.CacheStats{Policy: "s3fifo", Capacity: 1 << 20, Entries: 3, PinnedBytes: 100},
		Integrity: node.IntegrityStats{CorruptFound: 1, Repaired: 1, Scrub: &node.ScrubStats{Bytes: 6200}}}
	f.stats.Disk.Quota = 1 << 20
	return f
}

func newTestMetrics(t *testing.T, cfg Config, src Sources) *Metrics {
	t.Helper()
	m := New(cfg)
	if err := m.Watch(src); err != nil {
		t.Fatal(err)
	}
	return m
}

// value returns the value of the one series of family name whose labels
// include want, failing the test when there is none.
func value(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, want) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue()
				case m.Gauge != nil:
					return m.Gauge.GetValue()
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount())
				}
			}
		}
	}
	t.Fatalf("no series %s%v", name, want)
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

func TestCollectorReportsTheNodesFigures(t *testing.T) {
	m := newTestMetrics(t, Config{Version: "v1.2.3", Prices: savings.DefaultPrices()}, Sources{Node: newFakeNode(), Journal: fakeJournal(32768)})
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"objstore_build_info", map[string]string{"version": "v1.2.3"}, 1},
		{"objstore_cache_reads_total", map[string]string{"source": "memory", "result": "hit"}, 2},
		{"objstore_cache_read_bytes_total", map[string]string{"source": "memory", "result": "hit"}, 200},
		{"objstore_cache_reads_total", map[string]string{"source": "disk", "result": "hit"}, 1},
		{"objstore_cache_reads_total", map[string]string{"source": "origin", "result": "miss"}, 1},
		{"objstore_cache_read_bytes_total", map[string]string{"source": "origin", "result": "miss"}, 5000},
		{"objstore_cache_reads_total", map[string]string{"source": "peer", "result": "hit"}, 0},
		{"objstore_reads_not_found_total", nil, 7},
		{"objstore_cache_evictions_total", map[string]string{"cache": "disk"}, 1},
		{"objstore_cache_evicted_bytes_total", map[string]string{"cache": "disk"}, 700},
		{"objstore_cache_revalidations_total", map[string]string{"result": "not_modified"}, 3},
		{"objstore_saved_origin_gets_total", nil, 3},
		{"objstore_saved_origin_bytes_total", nil, 1200},
		{"objstore_origin_body_gets_total", map[string]string{"reason": "fill"}, 1},
		{"objstore_origin_state", map[string]string{"state": "ok"}, 1},
		{"objstore_origin_state", map[string]string{"state": "unreachable"}, 0},
		{"objstore_journal_records", map[string]string{"kind": "object"}, 4},
		{"objstore_journal_records", map[string]string{"kind": "tombstone"}, 2},
		{"objstore_journal_size_bytes", nil, 32768},
		{"objstore_cluster_members", map[string]string{"state": "alive"}, 2},
		{"objstore_cluster_members", map[string]string{"state": "dead"}, 1},
		{"objstore_cluster_members", map[string]string{"state": "left"}, 0},
		{"objstore_antientropy_passes_total", nil, 5},
		{"objstore_antientropy_failed_passes_total", nil, 1},
		{"objstore_antientropy_records_total", map[string]string{"direction": "received"}, 9},
		{"objstore_antientropy_bytes_total", map[string]string{"direction": "received"}, 4096},
		{"objstore_bodies_quota_bytes", nil, 1 << 20},
		{"objstore_cache_capacity_bytes", nil, 1 << 20},
		{"objstore_cache_entries", nil, 3},
		{"objstore_integrity_repaired_bodies_total", nil, 1},
		{"objstore_scrub_bytes_total", nil, 6200},
	} {
		if got := value(t, m.reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	want := savings.DefaultPrices().USD(3, 1200)
	if got := value(t, m.reg, "objstore_saved_usd", nil); got != want || got <= 0 {
		t.Errorf("objstore_saved_usd = %v, want %v", got, want)
	}
	if n, _ := testutil.GatherAndCount(m.reg, "objstore_outbox_depth"); n != 0 {
		t.Errorf("outbox depth reported without an outbox hook")
	}
}

func TestOutboxHook(t *testing.T) {
	m := newTestMetrics(t, Config{}, Sources{Node: newFakeNode(), Outbox: func() OutboxStats {
		return OutboxStats{Depth: 12, Oldest: 3.5, Bytes: 4096, MaxBytes: 1 << 30, Uploaded: 7, Deleted: 3, TakenOver: 2}
	}})
	if got := value(t, m.reg, "objstore_outbox_depth", nil); got != 12 {
		t.Errorf("outbox depth %v, want 12", got)
	}
	if got := value(t, m.reg, "objstore_outbox_oldest_age_seconds", nil); got != 3.5 {
		t.Errorf("outbox age %v, want 3.5", got)
	}
	if got := value(t, m.reg, "objstore_outbox_bytes", nil); got != 4096 {
		t.Errorf("outbox bytes %v, want 4096", got)
	}
	if got := value(t, m.reg, "objstore_outbox_max_bytes", nil); got != 1<<30 {
		t.Errorf("outbox bound %v, want 1 GiB", got)
	}
	for outcome, want := range map[string]float64{"uploaded": 7, "deleted": 3, "failed": 0, "taken_over": 2} {
		if got := value(t, m.reg, "objstore_outbox_uploads_total", map[string]string{"outcome": outcome}); got != want {
			t.Errorf("outbox uploads %s = %v, want %v", outcome, got, want)
		}
	}
	if problems, err := testutil.GatherAndLint(m.reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func TestFailedStatsLeaveTheRestServed(t *testing.T) {
	n := newFakeNode()
	n.err = errors.New("disk gone")
	m := newTestMetrics(t, Config{}, Sources{Node: n})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `objstore_cluster_members{state="alive"} 2`) {
		t.Fatalf("status %d; want 200 with the members:\n%s", rec.Code, body)
	}
	if strings.Contains(body, "objstore_journal_records") {
		t.Error("journal records served though the stats failed")
	}
}

// TestNamesPassTheLinter runs promtool's linter (the same code as
// `promtool check metrics`) over every metric after some traffic.
func TestNamesPassTheLinter(t *testing.T) {
	m := newTestMetrics(t, Config{}, Sources{Node: newFakeNode(), Journal: fakeJournal(1), Outbox: func() OutboxStats { return OutboxStats{} }})
	h := m.Instrument("native", func(*http.Request) string { return "get" }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/get/x", nil))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "body") }))
	defer srv.Close()
	resp, err := m.Origin(srv.Client(), func(*http.Request) string { return "GetObject" }).Do(mustRequest(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	problems, err := testutil.GatherAndLint(m.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestInstrumentCountsByOperationAndStatus(t *testing.T) {
	m := newTestMetrics(t, Config{}, Sources{Node: newFakeNode()})
	h := m.Instrument("s3", func(r *http.Request) string { return strings.TrimPrefix(r.URL.Path, "/") },
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/GetObject":
				_, _ = io.Copy(w, strings.NewReader("body")) // through ReadFrom
			case "/PutObject":
				w.WriteHeader(http.StatusForbidden)
			case "/HeadObject":
				// writes nothing: net/http answers 200
			case "/ListParts":
				panic(http.ErrAbortHandler)
			}
		}))
	for _, p := range []string{"/GetObject", "/GetObject", "/PutObject", "/HeadObject", "/ListParts"} {
		func() {
			defer func() { _ = recover() }()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
		}()
	}
	for _, tc := range []struct {
		op, code string
		want     float64
	}{{"GetObject", "200", 2}, {"PutObject", "403", 1}, {"HeadObject", "200", 1}, {"ListParts", "aborted", 1}} {
		labels := map[string]string{"api": "s3", "operation": tc.op, "code": tc.code}
		if got := value(t, m.reg, "objstore_http_requests_total", labels); got != tc.want {
			t.Errorf("requests%v = %v, want %v", labels, got, tc.want)
		}
		if got := value(t, m.reg, "objstore_http_request_duration_seconds", labels); got != tc.want {
			t.Errorf("durations%v count = %v, want %v", labels, got, tc.want)
		}
	}
}

// fixedAnswers answers the fast path's requests for /hot with 200 and
// /unchanged with 304, and hands the rest to net/http.
type fixedAnswers struct{}

func (fixedAnswers) Answer(req *fastpath.Request) (fastpath.Answer, bool) {
	switch string(req.Path()) {
	case "/hot":
		return fastpath.Answer{Head: []byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"), Body: []byte("x")}, true
	case "/unchanged":
		return fastpath.Answer{Head: []byte("HTTP/1.1 304 Not Modified\r\n")}, true
	}
	return fastpath.Answer{}, false
}

func TestFastHookCountsAnswers(t *testing.T) {
	m := newTestMetrics(t, Config{}, Sources{Node: newFakeNode()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front := fastpath.New(&http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: 10 * time.Second}, ln, fixedAnswers{})
	front.OnAnswer = m.Fast("native", "get", "head")
	served := make(chan error, 1)
	go func() { served <- front.Serve() }()
	defer func() {
		if err := front.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		<-served
	}()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	for _, r := range []struct{ method, path string }{
		{"GET", "/hot"}, {"GET", "/hot"}, {"HEAD", "/hot"}, {"GET", "/unchanged"}, {"GET", "/elsewhere"},
	} {
		req := mustRequest(t, "http://"+ln.Addr().String()+r.path)
		req.Method = r.method
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, tc := range []struct {
		op, code string
		want     float64
	}{{"get", "200", 2}, {"head", "200", 1}, {"get", "304", 1}} {
		labels := map[string]string{"api": "native", "operation": tc.op, "code": tc.code}
		if got := value(t, m.reg, "objstore_http_requests_total", labels); got != tc.want {
			t.Errorf("requests%v = %v, want %v", labels, got, tc.want)
		}
	}
}

func TestOriginCountsRequestsBytesAndErrors(t *testing.T) {
	m := newTestMetrics(t, Config{}, Sources{Node: newFakeNode()})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "0123456789")
	}))
	defer srv.Close()
	ops := map[string]string{"GET": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject"}
	d := m.Origin(srv.Client(), func(r *http.Request) string { return ops[r.Method] })
	do := func(method, url, body string) {
		t.Helper()
		r, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := d.Do(r)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	do("GET", srv.URL, "")
	do("PUT", srv.URL, "hello")
	do("DELETE", srv.URL, "")
	do("GET", "http://127.0.0.1:1/", "") // nobody listens: no answer
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"objstore_origin_requests_total", map[string]string{"operation": "GetObject", "code": "200"}, 1},
		{"objstore_origin_requests_total", map[string]string{"operation": "GetObject", "code": "error"}, 1},
		{"objstore_origin_requests_total", map[string]string{"operation": "DeleteObject", "code": "503"}, 1},
		{"objstore_origin_request_errors_total", map[string]string{"operation": "GetObject"}, 1},
		{"objstore_origin_request_errors_total", map[string]string{"operation": "DeleteObject"}, 1},
		{"objstore_origin_received_bytes_total", map[string]string{"operation": "GetObject"}, 10},
		{"objstore_origin_sent_bytes_total", map[string]string{"operation": "PutObject"}, 5},
		{"objstore_origin_request_duration_seconds", map[string]string{"operation": "GetObject"}, 2},
	} {
		if got := value(t, m.reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}
