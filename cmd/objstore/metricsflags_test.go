package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore/internal/fastpath"
)

func TestMetricsFlags(t *testing.T) {
	c, err := ParseConfig(nil, env(nil), io.Discard)
	if err != nil || !c.Metrics.On || c.Metrics.Addr != "" {
		t.Fatalf("defaults = %+v, %v; want on, on the public port", c.Metrics, err)
	}
	c, err = ParseConfig([]string{"--metrics-addr", "127.0.0.1:9100"}, env(nil), io.Discard)
	if err != nil || c.Metrics.Addr != "127.0.0.1:9100" {
		t.Fatalf("--metrics-addr = %+v, %v", c.Metrics, err)
	}
	c, err = ParseConfig(nil, env(map[string]string{"APP_METRICS": "false"}), io.Discard)
	if err != nil || c.Metrics.On {
		t.Fatalf("off from the environment = %+v, %v", c.Metrics, err)
	}
	for _, args := range [][]string{
		{"--metrics-addr", "9100"},
		{"--metrics=false", "--metrics-addr", "127.0.0.1:9100"},
		{"--metrics=maybe"},
	} {
		_, err := ParseConfig(args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "metrics") {
			t.Errorf("%v: err = %v, want an error naming the flag", args, err)
		}
	}
}

func TestMetricsOffCostsNothing(t *testing.T) {
	var x *nodeMetrics // --metrics=false
	h := http.NotFoundHandler()
	if x.wrapOrigin() != nil || x.fast("native", "get", "head") != nil || len(x.servers()) != 0 || x.watch(nil, nil) != nil {
		t.Fatal("metrics off still wrap the origin, hook the fast path, listen or watch")
	}
	rec := httptest.NewRecorder()
	x.instrument("native", nil, x.public(h)).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET /metrics with metrics off: %d, want the API's 404", rec.Code)
	}
}

func TestChainAnswers(t *testing.T) {
	if chainAnswers(nil, nil) != nil {
		t.Fatal("no hooks chained into one")
	}
	var calls []string
	hook := func(name string) func(net.Addr, *fastpath.Request, fastpath.Answer, time.Time) {
		return func(net.Addr, *fastpath.Request, fastpath.Answer, time.Time) { calls = append(calls, name) }
	}
	chainAnswers(hook("log"), nil, hook("metrics"))(nil, nil, fastpath.Answer{}, time.Time{})
	if strings.Join(calls, ",") != "log,metrics" {
		t.Fatalf("calls %v, want log then metrics", calls)
	}
}
