// Package metrics serves a node's figures to Prometheus: requests by API,
// operation and status with their latency, the cache's reads by source,
// the origin's requests, the journal, the cluster, anti-entropy and the
// money the cache saved.
//
// # Two kinds of figures
//
// Most figures already exist as the node's own counters (node.Stats, the
// savings tally, membership); a Collector reads them when Prometheus
// scrapes, so the read path pays nothing more for them. Only what nothing
// counted before is counted as it happens: each HTTP request an API
// answers (a handler wrapper for net/http and a hook for the fast path,
// one counter add and one histogram observation, resolved ahead for the
// fast path's hot GETs) and each HTTP request sent to an S3 origin (a
// wrapper around the SDK's HTTP client).
//
// # Names
//
// Every name starts with objstore_, counters end in _total, and units are
// base units in the name (_seconds, _bytes); see docs/DESIGN.md, "Metrics",
// for the list and README.md for the flags. Labels take a bounded set of
// values: operations are named by the APIs (httpapi.Operation,
// s3api.Server.Operation), never taken from paths, and buckets are not a
// label (per-bucket figures are in /api/v1/stats).
package metrics
