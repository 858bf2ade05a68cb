package httpapi

import (
	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/savings"
)

type diskStatsJSON struct {
	objstore.DiskUsage
	KBytesAll  float64 `json:"kb_all"`
	KBytesUsed float64 `json:"kb_used"`
	KBytesFree float64 `json:"kb_free"`
	MBytesAll  float64 `json:"mb_all"`
	MBytesUsed float64 `json:"mb_used"`
	MBytesFree float64 `json:"mb_free"`
	GBytesAll  float64 `json:"gb_all"`
	GBytesUsed float64 `json:"gb_used"`
	GBytesFree float64 `json:"gb_free"`
}

type statsJSON struct {
	NodeID    string          `json:"node_id"`
	DiskStats diskStatsJSON   `json:"disk_stats"`
	Objects   objstore.Counts `json:"objects"`
	Hits      any             `json:"hits"`
	Misses    int64           `json:"misses"`
	Nodes     any             `json:"nodes"`
	// Origin is the origin's state: ok, access_denied, no_such_bucket,
	// no_credentials, wrong_region, unreachable or error, with what to fix.
	Origin *objstore.OriginHealth `json:"origin,omitempty"`
	// Savings are reads by source per bucket, the origin GETs and bytes
	// they avoided, and what that saved at the configured prices.
	Savings savings.Report `json:"savings"`
	// Cache is the bounded disk cache: policy, capacity, entries, pins,
	// evictions and the entries restored at start.
	Cache *node.CacheStats `json:"cache,omitempty"`
	// StartupSweep says whether the background start-up sweep has ended.
	StartupSweep node.SweepStats `json:"startup_sweep"`
	// OriginGets are the body GETs this node sent the origin, by why.
	OriginGets node.OriginGets `json:"origin_gets"`
	// Integrity is the rot found, repaired and lost, and the scrubber.
	Integrity node.IntegrityStats `json:"integrity"`
	// Outbox is the write-back uploads owed to the origin.
	Outbox node.OutboxStats `json:"outbox"`
}

func newStatsJSON(s node.Stats, members []objstore.Member, prices savings.Prices) statsJSON {
	const kb, mb, gb = 1 << 10, 1 << 20, 1 << 30
	d := s.Disk
	return statsJSON{
		NodeID: s.NodeID,
		DiskStats: diskStatsJSON{
			DiskUsage: d,
			KBytesAll: float64(d.Total) / kb, KBytesUsed: float64(d.Used) / kb, KBytesFree: float64(d.Free) / kb,
			MBytesAll: float64(d.Total) / mb, MBytesUsed: float64(d.Used) / mb, MBytesFree: float64(d.Free) / mb,
			GBytesAll: float64(d.Total) / gb, GBytesUsed: float64(d.Used) / gb, GBytesFree: float64(d.Free) / gb,
		},
		Objects: s.Objects,
		Hits:    s.Hits,
		Misses:  s.Misses,
		Nodes:   members,
		Origin:  s.Origin,
		Savings: s.Savings.Report(prices),
		Cache:   s.Cache,

		StartupSweep: s.Sweep,
		OriginGets:   s.OriginGets,
		Integrity:    s.Integrity,
		Outbox:       s.Outbox,
	}
}
