package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/savings"
)

// Node is what the collector reads of a node at each scrape.
// Implemented by *node.Node.
type Node interface {
	Stats(ctx context.Context) (node.Stats, error)
	Members() []objstore.Member
	FreshStats() node.FreshStats
}

var _ Node = (*node.Node)(nil)

// Journal is the journal's size. Implemented by *journal.Store.
type Journal interface {
	Size(ctx context.Context) (int64, error)
}

// OutboxStats is the state of the write-back outbox: records waiting for
// their upload to the origin, and how long the oldest has waited.
type OutboxStats struct {
	Depth    int64
	Oldest   float64 // seconds; 0 when empty
	Bytes    int64
	MaxBytes int64
	// Upload outcomes since start.
	Uploaded, Deleted, Failed, Superseded, TakenOver int64
}

// Config configures the metrics.
type Config struct {
	// Prices price objstore_saved_usd; zero prices nothing.
	Prices savings.Prices
	// Version is reported by objstore_build_info.
	Version string
	// Logger hears of scrapes that failed in part; nil discards.
	Logger *slog.Logger
}

// Sources are what the collector reads at every scrape. Only Node is
// required.
type Sources struct {
	// Node is read for node.Stats, the members and the revalidations.
	Node Node
	// Journal, when set, is read for objstore_journal_size_bytes.
	Journal Journal
	// Outbox is the hook for the write-back outbox: when set, it is read
	// for the objstore_outbox_* series; nil leaves them out.
	Outbox func() OutboxStats
}

// Metrics is a node's metrics: its registry, served by Handler, and the
// instruments its APIs and origin client feed.
type Metrics struct {
	cfg    Config
	reg    *prometheus.Registry
	log    *slog.Logger
	http   *httpMetrics
	origin *originMetrics
}

// New returns the metrics with the request instruments and Go's runtime
// and process collectors registered; Watch adds the node's figures. It is
// made before the node, whose origin client it instruments.
func New(cfg Config) *Metrics {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{cfg: cfg, reg: prometheus.NewRegistry(), log: log, http: newHTTPMetrics(), origin: newOriginMetrics()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), m.http, m.origin)
	return m
}

// Watch registers the collector that reads src at every scrape. Call it
// once, when the node is open.
func (m *Metrics) Watch(src Sources) error {
	if src.Node == nil {
		return errors.New("metrics: watch: no node")
	}
	if err := m.reg.Register(newNodeCollector(m.cfg, src)); err != nil {
		return fmt.Errorf("metrics: watch: %w", err)
	}
	return nil
}

// Handler serves the metrics in Prometheus's text format (or what the
// scraper negotiates). A figure that cannot be read is left out of that
// scrape, logged, and the rest is served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}
