package metrics

import (
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Doer sends HTTP requests: *http.Client does, and so does the AWS SDK's
// HTTP client (aws.HTTPClient).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// originBuckets are the latency buckets of origin requests, in seconds.
var originBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// originMetrics count the HTTP requests sent to the origin.
type originMetrics struct {
	requests  *prometheus.CounterVec
	errors    *prometheus.CounterVec
	durations *prometheus.HistogramVec
	sent      *prometheus.CounterVec
	received  *prometheus.CounterVec
}

func newOriginMetrics() *originMetrics {
	op := []string{"operation"}
	return &originMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "objstore_origin_requests_total",
			Help: "HTTP requests sent to the S3 origin, retries included, by S3 operation and status code (error: no answer).",
		}, []string{"operation", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "objstore_origin_request_errors_total",
			Help: "Origin requests that failed: no answer (connection, timeout) or a 5xx, by S3 operation.",
		}, op),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "objstore_origin_request_duration_seconds",
			Help:    "Time from sending an origin request to the head of its answer (or its failure), by S3 operation.",
			Buckets: originBuckets,
		}, op),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "objstore_origin_sent_bytes_total",
			Help: "Body bytes sent to the origin (as their Content-Length declares), by S3 operation.",
		}, op),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "objstore_origin_received_bytes_total",
			Help: "Body bytes read from the origin's answers, by S3 operation.",
		}, op),
	}
}

func (o *originMetrics) vecs() []prometheus.Collector {
	return []prometheus.Collector{o.requests, o.errors, o.durations, o.sent, o.received}
}

func (o *originMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range o.vecs() {
		v.Describe(ch)
	}
}

func (o *originMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, v := range o.vecs() {
		v.Collect(ch)
	}
}

// Origin returns d with every request counted as an origin request, under
// the S3 operation op names (s3.Operation reads the SDK's name for it).
func (m *Metrics) Origin(d Doer, op func(*http.Request) string) Doer {
	return originDoer{d: d, op: op, m: m.origin}
}

type originDoer struct {
	d  Doer
	op func(*http.Request) string
	m  *originMetrics
}

func (o originDoer) Do(req *http.Request) (*http.Response, error) {
	op := o.op(req)
	if req.ContentLength > 0 {
		o.m.sent.WithLabelValues(op).Add(float64(req.ContentLength))
	}
	start := time.Now()
	resp, err := o.d.Do(req)
	o.m.durations.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		o.m.requests.WithLabelValues(op, "error").Inc()
		o.m.errors.WithLabelValues(op).Inc()
		return resp, err
	}
	o.m.requests.WithLabelValues(op, codeLabel(resp.StatusCode)).Inc()
	if resp.StatusCode >= 500 {
		o.m.errors.WithLabelValues(op).Inc()
	}
	if resp.Body != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: o.m.received.WithLabelValues(op)}
	}
	return resp, nil
}

// countingBody adds the bytes read from an answer's body to a counter.
type countingBody struct {
	io.ReadCloser
	n prometheus.Counter
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.n.Add(float64(n))
	}
	return n, err
}
