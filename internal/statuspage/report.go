package statuspage

import (
	"cmp"
	"slices"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/savings"
)

// Report is the JSON document the page draws (GET /api/v1/status).
type Report struct {
	NodeID  string `json:"node_id"`
	Version string `json:"version"`
	// Now and Started are milliseconds since the epoch; Started is when
	// the node's counters started.
	Now     int64 `json:"now"`
	Started int64 `json:"started"`
	// IntervalSeconds is the time between two samples of History, and
	// WindowSeconds the time the sampler's ring covers.
	IntervalSeconds float64 `json:"interval_seconds"`
	WindowSeconds   float64 `json:"window_seconds"`
	// Members is this node's view of the cluster, itself first.
	Members []objstore.Member `json:"members"`
	// Reads are the reads since start.
	Reads Reads `json:"reads"`
	// History is the spans between samples, oldest first; the last one
	// ends now when the last sample is a second old or more.
	History []Point       `json:"history"`
	Savings SavingsReport `json:"savings"`
	Disk    Disk          `json:"disk"`
	// Origin is the origin's state; nil when the origin keeps none.
	Origin  *objstore.OriginHealth `json:"origin,omitempty"`
	Objects objstore.Counts        `json:"objects"`
	// Integrity is the rot found, repaired and lost.
	Integrity node.IntegrityStats `json:"integrity"`
}

// Reads are the read counters since start.
type Reads struct {
	Hits   int64 `json:"hits"`
	Origin int64 `json:"origin"`
	Misses int64 `json:"misses"`
	Bytes  int64 `json:"bytes"`
	// HitRatio is hits over reads served; -1 before the first read.
	HitRatio float64 `json:"hit_ratio"`
}

// SavingsReport is what the cache saved since start, priced.
type SavingsReport struct {
	USD         float64            `json:"usd"`
	GetsAvoided int64              `json:"origin_gets_avoided"`
	BytesAvoid  int64              `json:"bytes_avoided"`
	Prices      savings.PricesJSON `json:"prices"`
}

// Disk is the body store against its bound.
type Disk struct {
	// Bodies is the bytes of committed bodies this node holds.
	Bodies int64 `json:"bodies_bytes"`
	// Quota is --disk-quota; 0 when the disk is bounded by its file
	// system's watermarks instead.
	Quota int64 `json:"quota_bytes"`
	// Capacity is what the eviction policy may fill (the quota, or what
	// the high watermark leaves); 0 when the disk is unbounded.
	Capacity int64 `json:"capacity_bytes"`
	// FS* describe the file system that holds the bodies.
	FSTotal uint64 `json:"fs_total_bytes"`
	FSUsed  uint64 `json:"fs_used_bytes"`
	// Policy, Pinned and Evictions are the bounded cache's, when bounded.
	Policy      string `json:"policy,omitempty"`
	PinnedBytes int64  `json:"pinned_bytes"`
	Evictions   int64  `json:"evictions"`
}

// Input is what Build reports on.
type Input struct {
	Now     time.Time
	Version string
	Stats   node.Stats
	Members []objstore.Member
	// Samples are the Sampler's, oldest first.
	Samples []Sample
	// Interval is the time between two samples, Window the time the
	// sampler's ring covers.
	Interval, Window time.Duration
	Prices           savings.Prices
}

// liveSpan is the shortest span from the last sample to now drawn as a
// point of its own: shorter ones are noise.
const liveSpan = time.Second

// Build makes the page's report.
func Build(in Input) Report {
	now := SampleOf(in.Now, in.Stats, in.Prices)
	samples := in.Samples
	if len(samples) > 0 && now.At.Sub(samples[len(samples)-1].At) >= liveSpan {
		samples = append(slices.Clip(samples), now)
	}
	sr := in.Stats.Savings.Report(in.Prices)
	r := Report{
		NodeID: in.Stats.NodeID, Version: in.Version, Now: in.Now.UnixMilli(), Started: sr.Since.UnixMilli(),
		IntervalSeconds: in.Interval.Seconds(), WindowSeconds: in.Window.Seconds(),
		Members: sortMembers(in.Members),
		Reads:   Reads{Hits: now.Hits, Origin: now.Origin, Misses: now.Misses, Bytes: now.Bytes, HitRatio: -1},
		History: Points(samples),
		Savings: SavingsReport{USD: sr.USDSaved, GetsAvoided: sr.Total.Avoided.Requests,
			BytesAvoid: sr.Total.Avoided.Bytes, Prices: sr.Prices},
		Disk:      diskOf(in.Stats),
		Origin:    in.Stats.Origin,
		Objects:   in.Stats.Objects,
		Integrity: in.Stats.Integrity,
	}
	if reads := now.Reads(); reads > 0 {
		r.Reads.HitRatio = float64(now.Hits) / float64(reads)
	}
	return r
}

func diskOf(st node.Stats) Disk {
	d := Disk{Bodies: st.Disk.Bodies, Quota: st.Disk.Quota, FSTotal: st.Disk.Total, FSUsed: st.Disk.Used}
	if c := st.Cache; c != nil {
		d.Capacity, d.Policy, d.PinnedBytes, d.Evictions = c.Capacity, c.Policy, c.PinnedBytes, c.Evictions
	}
	return d
}

// sortMembers puts the answering node first, then the others by ID, so
// the page's table does not reorder as gossip does.
func sortMembers(ms []objstore.Member) []objstore.Member {
	out := slices.Clone(ms)
	if out == nil {
		out = []objstore.Member{}
	}
	slices.SortFunc(out, func(a, b objstore.Member) int {
		if a.Self != b.Self {
			if a.Self {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}
