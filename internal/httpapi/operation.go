package httpapi

import (
	"net/http"
	"strings"
)

// MetricsPath is where a node serves its Prometheus metrics on the public
// port (internal/metrics), unless they have a port of their own.
const MetricsPath = "/metrics"

// nativeOps are the operations of the native API by the path segment after
// /api/v1/ that names them.
var nativeOps = map[string]string{
	"get": "get", "meta": "meta", "put": "put", "delete": "delete", "level": "level", "id": "id",
	"version": "version", "ping": "ping", "stats": "stats", "nodes": "nodes", "warm": "warm", "events": "events",
}

// Operation names the native API operation r asks for, as metrics label
// requests: the route's name ("get", "put", "meta", …; a HEAD of an object
// is "head"), "metrics" for MetricsPath and "other" for any other path. It
// reads only the method and the path, so the names are few whatever the
// clients send; a request the route refuses (405, 400) keeps its name and
// the status tells the rest.
func Operation(r *http.Request) string {
	p := r.URL.Path
	if p == MetricsPath {
		return "metrics"
	}
	rest, ok := strings.CutPrefix(p, "/api/v1/")
	if !ok {
		return "other"
	}
	name, _, _ := strings.Cut(rest, "/")
	op, ok := nativeOps[name]
	switch {
	case !ok:
		return "other"
	case op == "get" && r.Method == http.MethodHead:
		return "head"
	}
	return op
}
