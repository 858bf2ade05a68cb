// Package statuspage is the node's status page: an HTML page, its script
// and its style, embedded in the binary (no external fonts, scripts or
// CDNs), and the figures it draws. A Sampler keeps a short history of
// the node's read counters in memory (a ring, by default one sample every
// 5 s for 15 min), so that every node can draw its own hit ratio and
// throughput over the last minutes without Prometheus; Build turns the
// node's current stats, its view of the cluster and that history into the
// one JSON document the page fetches (GET /api/v1/status, served by
// internal/httpapi under the native API's authentication).
package statuspage
