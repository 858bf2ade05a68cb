package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsScrape sends a node of a two-node cluster some traffic of
// every kind (a write through to the origin, reads from disk and memory, a
// read-through from the origin, a 404, an S3 API write and reads), scrapes its /metrics, has
// `promtool check metrics` lint the answer (any complaint fails), and
// checks that the series of that traffic moved.
func TestMetricsScrape(t *testing.T) {
	c := StartCluster(t, 2, ClusterOpts{})
	a := c.Nodes[0]
	before := metricsScrape(t, a.Client, a.URL("/metrics"))

	written, body := newID(), []byte("written through to the origin\n")
	a.MustPut(t, written, 1, body)
	for range 3 {
		a.MustGet(t, written, body)
	}
	wantStatus(t, a.Get(t, newID()), http.StatusNotFound, "GET of an unknown id")
	foreign, foreignBody := newID(), randomBytes(7, 10_000)
	c.Origin.putOrigin(t, foreign, foreignBody)
	a.MustGet(t, foreign, foreignBody, "X-Meta-Fetch", "1")
	ctx := testCtx(t, time.Minute)
	s3Path := "/" + c.Origin.Bucket + "/metrics/object"
	wantStatus(t, a.s3Do(ctx, t, http.MethodPut, s3Path, []byte("through the S3 API")), http.StatusOK, "S3 PutObject")
	for range 2 {
		wantStatus(t, a.s3Do(ctx, t, http.MethodGet, s3Path, nil), http.StatusOK, "S3 GetObject")
	}

	raw := metricsScrapeRaw(t, a.Client, a.URL("/metrics"))
	metricsPromtool(t, raw)
	after := metricsParse(t, raw)
	for _, tc := range []struct {
		name    string
		labels  map[string]string
		atLeast float64
	}{
		{"objstore_http_requests_total", map[string]string{"api": "native", "operation": "put", "code": "200"}, 1},
		{"objstore_http_requests_total", map[string]string{"api": "native", "operation": "get", "code": "200"}, 4},
		{"objstore_http_requests_total", map[string]string{"api": "native", "operation": "get", "code": "404"}, 1},
		{"objstore_http_request_duration_seconds", map[string]string{"api": "native", "operation": "get", "code": "200"}, 4},
		{"objstore_http_requests_total", map[string]string{"api": "s3", "operation": "PutObject", "code": "200"}, 1},
		{"objstore_http_requests_total", map[string]string{"api": "s3", "operation": "GetObject", "code": "200"}, 2},
		{"objstore_cache_reads_total", map[string]string{"source": "memory", "result": "hit"}, 1},
		{"objstore_cache_reads_total", map[string]string{"source": "origin", "result": "miss"}, 1},
		{"objstore_cache_read_bytes_total", map[string]string{"source": "origin", "result": "miss"}, float64(len(foreignBody))},
		{"objstore_reads_not_found_total", nil, 1},
		{"objstore_origin_requests_total", map[string]string{"operation": "PutObject", "code": "200"}, 2},
		{"objstore_origin_requests_total", map[string]string{"operation": "GetObject", "code": "200"}, 1},
		{"objstore_origin_received_bytes_total", map[string]string{"operation": "GetObject"}, float64(len(foreignBody))},
		{"objstore_origin_sent_bytes_total", map[string]string{"operation": "PutObject"}, float64(len(body))},
		{"objstore_origin_request_duration_seconds", map[string]string{"operation": "PutObject"}, 1},
		{"objstore_origin_body_gets_total", map[string]string{"reason": "fill"}, 1},
		{"objstore_saved_origin_gets_total", nil, 1},
		{"objstore_journal_records", map[string]string{"kind": "object"}, 3},
	} {
		got := metricsValue(after, tc.name, tc.labels)
		if moved := got - metricsValue(before, tc.name, tc.labels); moved < tc.atLeast {
			t.Errorf("%s%v moved by %v (now %v), want at least %v", tc.name, tc.labels, moved, got, tc.atLeast)
		}
	}
	for _, name := range []string{"objstore_journal_size_bytes", "objstore_outbox_max_bytes", "objstore_saved_usd", "objstore_filesystem_size_bytes", "go_goroutines", "process_resident_memory_bytes"} {
		if v := metricsValue(after, name, nil); v <= 0 {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	if v := metricsValue(after, "objstore_origin_state", map[string]string{"state": "ok"}); v != 1 {
		t.Errorf("origin state ok = %v, want 1", v)
	}
	// Membership and anti-entropy move on their own (--sync-interval 500ms).
	eventually(t, 15*time.Second, "two alive members and anti-entropy passes on the scraped node", func() error {
		m := metricsScrape(t, a.Client, a.URL("/metrics"))
		alive := metricsValue(m, "objstore_cluster_members", map[string]string{"state": "alive"})
		passes := metricsValue(m, "objstore_antientropy_passes_total", nil)
		if alive != 2 || passes < 1 {
			return fmt.Errorf("alive members %v, anti-entropy passes %v", alive, passes)
		}
		return nil
	})
}

// TestMetricsAddrAndOff runs one node with /metrics on a listener of its
// own and one with metrics off: neither serves /metrics on the public port.
func TestMetricsAddrAndOff(t *testing.T) {
	o := newOrigin(t)
	addr := freeAddr(t, nil, "127.0.0.1")
	own := o.StartNode(t, "--metrics-addr", addr)
	off := o.StartNode(t, "--metrics=false")
	m := metricsScrape(t, own.Client, "http://"+addr+"/metrics")
	if v := metricsValue(m, "objstore_build_info", nil); v != 1 {
		t.Errorf("objstore_build_info on --metrics-addr = %v, want 1", v)
	}
	for _, n := range []*Node{own, off} {
		wantStatus(t, n.Do(t, http.MethodGet, "/metrics", nil), http.StatusNotFound, "GET /metrics on the public port")
	}
}

// metricsScrapeRaw GETs a /metrics URL and returns the text answer.
func metricsScrapeRaw(t testing.TB, c *http.Client, url string) []byte {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only body, fully read below
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d, %v: %.200s", url, resp.StatusCode, err, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape %s: Content-Type %q, want the text format", url, ct)
	}
	return b
}

func metricsScrape(t testing.TB, c *http.Client, url string) map[string]*dto.MetricFamily {
	t.Helper()
	return metricsParse(t, metricsScrapeRaw(t, c, url))
}

func metricsParse(t testing.TB, raw []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// metricsValue is the value of the series of family name whose labels
// include want (a histogram's sample count); 0 when there is none yet.
func metricsValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	for _, m := range fams[name].GetMetric() {
		n := 0
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
				n++
			}
		}
		if n != len(want) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

// metricsPromtool pipes raw to `promtool check metrics`; any complaint
// fails the test. scripts/test.sh installs promtool (from Debian's
// prometheus package).
func metricsPromtool(t testing.TB, raw []byte) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found (bash scripts/test.sh installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
