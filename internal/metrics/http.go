package metrics

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sphere.software/objstore/internal/fastpath"
)

// requestBuckets are the latency buckets of API requests, in seconds: from
// a hot GET answered from memory (tens of microseconds) to a large body
// streamed from the origin.
var requestBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// httpMetrics count the requests the APIs answer.
type httpMetrics struct {
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
}

func newHTTPMetrics() *httpMetrics {
	labels := []string{"api", "operation", "code"}
	return &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "objstore_http_requests_total",
			Help: "HTTP requests answered, by API (native, s3), operation and status code (aborted: the handler cut the answer off).",
		}, labels),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "objstore_http_request_duration_seconds",
			Help:    "Time from a request's head to the end of its answer, by API, operation and status code.",
			Buckets: requestBuckets,
		}, labels),
	}
}

func (h *httpMetrics) Describe(ch chan<- *prometheus.Desc) {
	h.requests.Describe(ch)
	h.durations.Describe(ch)
}

func (h *httpMetrics) Collect(ch chan<- prometheus.Metric) {
	h.requests.Collect(ch)
	h.durations.Collect(ch)
}

// series is one label set's counter and histogram, resolved once.
type series struct {
	count prometheus.Counter
	took  prometheus.Observer
}

func (h *httpMetrics) series(api, op, code string) series {
	return series{count: h.requests.WithLabelValues(api, op, code), took: h.durations.WithLabelValues(api, op, code)}
}

func (s series) observe(took time.Duration) {
	s.count.Inc()
	s.took.Observe(took.Seconds())
}

// codes are the status codes as label values, made once.
var codes = func() (c [600]string) {
	for i := 100; i < len(c); i++ {
		c[i] = strconv.Itoa(i)
	}
	return c
}()

func codeLabel(status int) string {
	if status >= 100 && status < len(codes) {
		return codes[status]
	}
	return strconv.Itoa(status)
}

// Instrument returns h with every request it answers counted as served by
// api, under the operation op names.
func (m *Metrics) Instrument(api string, op func(*http.Request) string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		finished := false
		// Deferred so that a handler that aborts its answer with
		// panic(http.ErrAbortHandler) is counted too.
		defer func() {
			code := "aborted"
			switch {
			case rec.status != 0:
				code = codeLabel(rec.status)
			case finished:
				code = codes[http.StatusOK] // net/http's answer to a handler that wrote nothing
			}
			m.http.series(api, op(r), code).observe(time.Since(start))
		}()
		h.ServeHTTP(rec, r)
		finished = true
	})
}

// Fast returns the fast path's answer hook (fastpath.Server.OnAnswer) that
// counts each answer there as served by api, under the operation getOp for
// a GET and headOp for a HEAD. The series of the usual answer (200) are
// resolved here, so a hot GET pays no label lookup.
func (m *Metrics) Fast(api, getOp, headOp string) func(net.Addr, *fastpath.Request, fastpath.Answer, time.Time) {
	get, head := m.http.series(api, getOp, codes[http.StatusOK]), m.http.series(api, headOp, codes[http.StatusOK])
	return func(_ net.Addr, req *fastpath.Request, a fastpath.Answer, start time.Time) {
		took := time.Since(start)
		s, op := get, getOp
		if req.Method() == http.MethodHead {
			s, op = head, headOp
		}
		if status := statusOf(a.Head); status != http.StatusOK {
			s = m.http.series(api, op, codeLabel(status))
		}
		s.observe(took)
	}
}

// statusOf reads the status code of an answer head that starts with a
// status line ("HTTP/1.1 200 OK"); 0 if it does not.
func statusOf(head []byte) int {
	const prefix = len("HTTP/1.1 ")
	if len(head) < prefix+3 {
		return 0
	}
	code := 0
	for _, c := range head[prefix : prefix+3] {
		if c < '0' || c > '9' {
			return 0
		}
		code = code*10 + int(c-'0')
	}
	return code
}

// recorder is a ResponseWriter that notes the status. It passes ReadFrom
// through, so that bodies served from files keep using sendfile, and
// Unwrap and FlushError, for http.ResponseController.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	// 1xx answers (100 Continue) come before the final status.
	if r.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{r.ResponseWriter}, src)
}

// Flush sends what is buffered (a handler may test for http.Flusher).
func (r *recorder) Flush() { _ = r.FlushError() } // as http.Flusher, which has no error to return

// FlushError is Flush for http.ResponseController, which looks for it
// before Flush and Unwrap.
func (r *recorder) FlushError() error {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the wrapped writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// writerOnly hides a writer's ReadFrom, so io.Copy does not call back into
// recorder.ReadFrom.
type writerOnly struct{ io.Writer }
