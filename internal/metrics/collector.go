package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/savings"
)

// scrapeTimeout bounds the reads of one scrape (the journal's counts,
// statfs): a scrape that waits longer than Prometheus does helps no one.
const scrapeTimeout = 10 * time.Second

// memberStates are the states a member is reported in, each always
// exported (0 when no member is in it), so that alerts see a 0.
var memberStates = []string{"alive", "suspect", "dead", "left"}

// originStates are the states an origin's probe reports.
var originStates = []objstore.OriginState{objstore.OriginOK, objstore.OriginAccessDenied, objstore.OriginNoSuchBucket,
	objstore.OriginNoCredentials, objstore.OriginWrongRegion, objstore.OriginUnreachable, objstore.OriginError}

// readSources are the savings kinds of reads served, as the cache's
// source label names them, and whether each is a hit.
var readSources = []struct {
	kind   savings.Kind
	source string
	hit    bool
}{
	{savings.Memory, "memory", true}, {savings.MemoryPeer, "memory_peer", true}, {savings.Disk, "disk", true},
	{savings.Peer, "peer", true}, {savings.Origin, "origin", false}, {savings.Coalesced, "origin_coalesced", false},
}

// nodeCollector reads the node's own counters at each scrape.
type nodeCollector struct {
	cfg   Config
	src   Sources
	descs map[string]*prometheus.Desc
}

// desc is one metric's name, help and variable labels.
type desc struct {
	name, help string
	labels     []string
}

var nodeDescs = []desc{
	{"objstore_build_info", "Always 1; the version label is the node's build.", []string{"version"}},
	{"objstore_cache_reads_total", "Object reads served, by where the body came from (memory, memory_peer: a peer's body held here, disk, peer, origin, origin_coalesced: joined a fill in flight) and result (hit: no origin GET).", []string{"source", "result"}},
	{"objstore_cache_read_bytes_total", "Bytes of the bodies of object reads served (whole bodies, ranges included), by source and result.", []string{"source", "result"}},
	{"objstore_reads_not_found_total", "Object reads answered not found (unknown, deleted or lost).", nil},
	{"objstore_cache_evictions_total", "Bodies evicted, by cache (disk, memory).", []string{"cache"}},
	{"objstore_cache_evicted_bytes_total", "Bytes of bodies evicted, by cache (disk, memory).", []string{"cache"}},
	{"objstore_cache_revalidations_total", "Revalidations of read-through bodies with the origin (--origin-ttl), by result (not_modified, replaced, removed).", []string{"result"}},
	{"objstore_cache_stale_reads_total", "Reads served stale past --origin-ttl while the origin could not be reached.", nil},
	{"objstore_cache_capacity_bytes", "Capacity of the bounded disk cache.", nil},
	{"objstore_cache_entries", "Bodies tracked by the bounded disk cache.", nil},
	{"objstore_cache_pinned_bytes", "Bytes of bodies the bounded disk cache may not evict (written here, not yet in the origin, or being read).", nil},
	{"objstore_warm_fills_total", "Origin fills started by warm-up jobs.", nil},
	{"objstore_warm_fill_bytes_total", "Bytes fetched from the origin by warm-up jobs.", nil},
	{"objstore_origin_body_gets_total", "Origin GETs of object bodies, by why (fill: a miss fetched the body; stream: a body fetched again beside a fill).", []string{"reason"}},
	{"objstore_origin_state", "1 for the origin's state as its last probe found it, 0 for the others.", []string{"state"}},
	{"objstore_saved_origin_gets_total", "Origin GETs that reads served from memory, disk, peers or a shared fill did not make.", nil},
	{"objstore_saved_origin_bytes_total", "Origin egress bytes those reads did not cost.", nil},
	{"objstore_saved_usd", "Money saved since start at the configured prices, net of warm-up fills and revalidations (can fall).", nil},
	{"objstore_journal_records", "Records in the journal, by kind (object, tombstone).", []string{"kind"}},
	{"objstore_journal_size_bytes", "Bytes of the journal's file in use.", nil},
	{"objstore_objects_bytes", "Bytes of the live objects the journal records.", nil},
	{"objstore_bodies_bytes", "Bytes of object bodies held on this node's disk.", nil},
	{"objstore_bodies_quota_bytes", "Configured limit of bodies on disk (--disk-quota); absent when the whole disk may be used.", nil},
	{"objstore_filesystem_size_bytes", "Size of the file system that holds the bodies.", nil},
	{"objstore_filesystem_free_bytes", "Free bytes on the file system that holds the bodies.", nil},
	{"objstore_cluster_members", "Cluster members this node knows, itself included, by state.", []string{"state"}},
	{"objstore_antientropy_passes_total", "Anti-entropy passes this node started.", nil},
	{"objstore_antientropy_failed_passes_total", "Anti-entropy passes this node started that failed.", nil},
	{"objstore_antientropy_records_total", "Records moved by this node's anti-entropy passes, by direction (sent, received).", []string{"direction"}},
	{"objstore_antientropy_bytes_total", "Bytes moved by this node's anti-entropy passes, by direction (sent, received).", []string{"direction"}},
	{"objstore_integrity_corrupt_bodies_total", "Bodies found failing their checksum.", nil},
	{"objstore_integrity_repaired_bodies_total", "Corrupt bodies restored from a peer or the origin.", nil},
	{"objstore_integrity_lost_bodies_total", "Level-0 bodies whose only copy rotted.", nil},
	{"objstore_integrity_repair_failures_total", "Repairs that could not reach a good copy for now.", nil},
	{"objstore_scrub_bytes_total", "Bytes re-read by the background scrubber.", nil},
	{"objstore_outbox_depth", "Records waiting in the write-back outbox for their upload to the origin.", nil},
	{"objstore_outbox_oldest_age_seconds", "How long the oldest record in the write-back outbox has waited; 0 when empty.", nil},
	{"objstore_outbox_bytes", "Bytes of the bodies waiting in the write-back outbox.", nil},
	{"objstore_outbox_max_bytes", "Bound of the write-back outbox (--outbox-max-bytes): past it, write-back PUTs are refused.", nil},
	{"objstore_outbox_uploads_total", "Write-back uploads and deletes this node ran since start, by outcome (uploaded, deleted, failed, superseded, taken_over).", []string{"outcome"}},
}

func newNodeCollector(cfg Config, src Sources) *nodeCollector {
	c := &nodeCollector{cfg: cfg, src: src, descs: make(map[string]*prometheus.Desc, len(nodeDescs))}
	for _, d := range nodeDescs {
		c.descs[d.name] = prometheus.NewDesc(d.name, d.help, d.labels, nil)
	}
	return c
}

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// emit sends one metric; the type follows the name: _total is a counter,
// anything else a gauge.
type emit func(name string, v float64, labels ...string)

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	e := func(name string, v float64, labels ...string) {
		d, ok := c.descs[name]
		if !ok { // a programming error the tests catch; the scrape reports it, the node goes on
			ch <- prometheus.NewInvalidMetric(prometheus.NewDesc(name, "undescribed", nil, nil), fmt.Errorf("metrics: %s is not in nodeDescs", name))
			return
		}
		t := prometheus.GaugeValue
		if len(name) > 6 && name[len(name)-6:] == "_total" {
			t = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
	}
	e("objstore_build_info", 1, c.cfg.Version)
	s, err := c.src.Node.Stats(ctx)
	if err != nil { // the figures of node.Stats are left out of this scrape; the rest is served
		ch <- prometheus.NewInvalidMetric(c.descs["objstore_journal_records"], fmt.Errorf("metrics: node stats: %w", err))
	} else {
		collectStats(e, s, c.cfg.Prices)
	}
	collectFresh(e, c.src.Node.FreshStats())
	collectMembers(e, c.src.Node.Members())
	if c.src.Journal != nil {
		if n, err := c.src.Journal.Size(ctx); err != nil {
			ch <- prometheus.NewInvalidMetric(c.descs["objstore_journal_size_bytes"], err)
		} else {
			e("objstore_journal_size_bytes", float64(n))
		}
	}
	if c.src.Outbox != nil {
		o := c.src.Outbox()
		e("objstore_outbox_depth", float64(o.Depth))
		e("objstore_outbox_oldest_age_seconds", o.Oldest)
		e("objstore_outbox_bytes", float64(o.Bytes))
		e("objstore_outbox_max_bytes", float64(o.MaxBytes))
		for _, u := range []struct {
			outcome string
			n       int64
		}{{"uploaded", o.Uploaded}, {"deleted", o.Deleted}, {"failed", o.Failed}, {"superseded", o.Superseded}, {"taken_over", o.TakenOver}} {
			e("objstore_outbox_uploads_total", float64(u.n), u.outcome)
		}
	}
}

func collectStats(e emit, s node.Stats, prices savings.Prices) {
	total := s.Savings.Total()
	for _, r := range readSources {
		result := "miss"
		if r.hit {
			result = "hit"
		}
		cnt := total.Get(r.kind)
		e("objstore_cache_reads_total", float64(cnt.Requests), r.source, result)
		e("objstore_cache_read_bytes_total", float64(cnt.Bytes), r.source, result)
	}
	e("objstore_reads_not_found_total", float64(s.Misses))
	for _, ev := range []struct {
		kind  savings.Kind
		cache string
	}{{savings.Evicted, "disk"}, {savings.EvictedMemory, "memory"}} {
		e("objstore_cache_evictions_total", float64(total.Get(ev.kind).Requests), ev.cache)
		e("objstore_cache_evicted_bytes_total", float64(total.Get(ev.kind).Bytes), ev.cache)
	}
	e("objstore_warm_fills_total", float64(total.Get(savings.Warm).Requests))
	e("objstore_warm_fill_bytes_total", float64(total.Get(savings.Warm).Bytes))
	report := s.Savings.Report(prices)
	e("objstore_saved_origin_gets_total", float64(report.Total.Avoided.Requests))
	e("objstore_saved_origin_bytes_total", float64(report.Total.Avoided.Bytes))
	e("objstore_saved_usd", report.USDSaved)
	e("objstore_origin_body_gets_total", float64(s.OriginGets.Fills), "fill")
	e("objstore_origin_body_gets_total", float64(s.OriginGets.Streams), "stream")
	if s.Origin != nil {
		for _, st := range originStates {
			e("objstore_origin_state", boolValue(s.Origin.State == st), string(st))
		}
	}
	collectStore(e, s)
	collectCluster(e, s)
}

// collectStore emits the journal's and the disk's figures.
func collectStore(e emit, s node.Stats) {
	e("objstore_journal_records", float64(s.Objects.Objects), "object")
	e("objstore_journal_records", float64(s.Objects.Tombstones), "tombstone")
	e("objstore_objects_bytes", float64(s.Objects.Bytes))
	e("objstore_bodies_bytes", float64(s.Disk.Bodies))
	if s.Disk.Quota > 0 {
		e("objstore_bodies_quota_bytes", float64(s.Disk.Quota))
	}
	e("objstore_filesystem_size_bytes", float64(s.Disk.Total))
	e("objstore_filesystem_free_bytes", float64(s.Disk.Free))
	if c := s.Cache; c != nil {
		e("objstore_cache_capacity_bytes", float64(c.Capacity))
		e("objstore_cache_entries", float64(c.Entries))
		e("objstore_cache_pinned_bytes", float64(c.PinnedBytes))
	}
	in := s.Integrity
	e("objstore_integrity_corrupt_bodies_total", float64(in.CorruptFound))
	e("objstore_integrity_repaired_bodies_total", float64(in.Repaired))
	e("objstore_integrity_lost_bodies_total", float64(in.Lost))
	e("objstore_integrity_repair_failures_total", float64(in.RepairFailed))
	if in.Scrub != nil {
		e("objstore_scrub_bytes_total", float64(in.Scrub.Bytes))
	}
}

// collectCluster emits the anti-entropy figures.
func collectCluster(e emit, s node.Stats) {
	ae := s.AntiEntropy
	e("objstore_antientropy_passes_total", float64(ae.Passes))
	e("objstore_antientropy_failed_passes_total", float64(ae.Failed))
	e("objstore_antientropy_records_total", float64(ae.Sent), "sent")
	e("objstore_antientropy_records_total", float64(ae.Received), "received")
	e("objstore_antientropy_bytes_total", float64(ae.BytesOut), "sent")
	e("objstore_antientropy_bytes_total", float64(ae.BytesIn), "received")
}

func collectFresh(e emit, f node.FreshStats) {
	e("objstore_cache_revalidations_total", float64(f.NotModified), "not_modified")
	e("objstore_cache_revalidations_total", float64(f.Replaced), "replaced")
	e("objstore_cache_revalidations_total", float64(f.Removed), "removed")
	e("objstore_cache_stale_reads_total", float64(f.Stale))
}

func collectMembers(e emit, members []objstore.Member) {
	byState := make(map[string]int, len(memberStates))
	for _, m := range members {
		byState[m.State]++
	}
	for _, st := range memberStates {
		e("objstore_cluster_members", float64(byState[st]), st)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
