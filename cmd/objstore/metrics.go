package main

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/httpapi"
	"sphere.software/objstore/internal/journal"
	"sphere.software/objstore/internal/metrics"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/s3"
)

// nodeMetrics are the metrics --metrics asks for; nil when off, so that
// the servers then run without their wrapper and hook and the origin's
// client unwrapped.
type nodeMetrics struct {
	m    *metrics.Metrics
	addr string // --metrics-addr; empty: /metrics on the public port
}

func openMetrics(cfg Config, log *slog.Logger) *nodeMetrics {
	if !cfg.Metrics.On {
		return nil
	}
	m := metrics.New(metrics.Config{Prices: cfg.Prices, Version: buildVersion(), Logger: log.With("part", "metrics")})
	return &nodeMetrics{m: m, addr: cfg.Metrics.Addr}
}

// wrapOrigin is the S3 origin's HTTP client wrapper that counts its
// requests, or nil when metrics are off.
func (x *nodeMetrics) wrapOrigin() func(s3.HTTPClient) s3.HTTPClient {
	if x == nil {
		return nil
	}
	return func(c s3.HTTPClient) s3.HTTPClient { return x.m.Origin(c, s3.Operation) }
}

// watch has the metrics read n and j at every scrape.
func (x *nodeMetrics) watch(n *node.Node, j *journal.Store) error {
	if x == nil {
		return nil
	}
	return x.m.Watch(metrics.Sources{Node: n, Journal: j, Outbox: func() metrics.OutboxStats {
		o := n.OutboxStats()
		return metrics.OutboxStats{Depth: int64(o.Depth), Oldest: o.OldestAge, Bytes: o.Bytes, MaxBytes: o.MaxBytes,
			Uploaded: o.Uploaded, Deleted: o.Deleted, Failed: o.Failed, Superseded: o.Superseded, TakenOver: o.TakenOver}
	}})
}

// instrument is h with its requests counted as api's, when metrics are on.
func (x *nodeMetrics) instrument(api string, op func(*http.Request) string, h http.Handler) http.Handler {
	if x == nil {
		return h
	}
	return x.m.Instrument(api, op, h)
}

// fast is the fast path's answer hook that counts api's hot GETs and
// HEADs under getOp and headOp; nil when metrics are off.
func (x *nodeMetrics) fast(api, getOp, headOp string) func(net.Addr, *fastpath.Request, fastpath.Answer, time.Time) {
	if x == nil {
		return nil
	}
	return x.m.Fast(api, getOp, headOp)
}

// public is the public port's handler h with /metrics served before it,
// unless the metrics are off or have a listener of their own.
func (x *nodeMetrics) public(h http.Handler) http.Handler {
	if x == nil || x.addr != "" {
		return h
	}
	metricsHandler := x.m.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == httpapi.MetricsPath {
			metricsHandler.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// servers is the metrics listener of --metrics-addr, if any.
func (x *nodeMetrics) servers() []namedServer {
	if x == nil || x.addr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+httpapi.MetricsPath, x.m.Handler())
	return []namedServer{{name: "metrics", addr: x.addr, handler: mux}}
}

// chainAnswers calls each hook that is set, in order; nil when none is.
func chainAnswers(hooks ...func(net.Addr, *fastpath.Request, fastpath.Answer, time.Time)) func(net.Addr, *fastpath.Request, fastpath.Answer, time.Time) {
	var set []func(net.Addr, *fastpath.Request, fastpath.Answer, time.Time)
	for _, h := range hooks {
		if h != nil {
			set = append(set, h)
		}
	}
	switch len(set) {
	case 0:
		return nil
	case 1:
		return set[0]
	}
	return func(remote net.Addr, req *fastpath.Request, a fastpath.Answer, start time.Time) {
		for _, h := range set {
			h(remote, req, a, start)
		}
	}
}
