package savings

import "time"

// BucketReport is what one bucket's reads cost and saved.
type BucketReport struct {
	// Memory, Disk, Peer and Origin are reads by where they were served
	// from; Memory includes peers' bodies held in memory, Origin the
	// reads that followed another's fill (Coalesced).
	Memory Count `json:"memory"`
	Disk   Count `json:"disk"`
	Peer   Count `json:"peer"`
	Origin Count `json:"origin"`
	// Coalesced are origin reads that joined a fill already in flight.
	Coalesced Count `json:"origin_coalesced"`
	// Avoided are the origin GETs (and their bytes) that reads served from
	// memory, disk, peers or a shared fill did not make.
	Avoided Count `json:"origin_gets_avoided"`
	// Warm are origin fills started by warm-up.
	Warm          Count         `json:"warm"`
	Revalidations Revalidations `json:"revalidations"`
	Evictions     Evictions     `json:"evictions"`
	// USDSaved is Avoided priced, less warm-up fills and 304s.
	USDSaved float64 `json:"usd_saved"`
}

// Revalidations are the conditional GETs made to the origin.
type Revalidations struct {
	NotModified Count `json:"not_modified"`
	Refetched   Count `json:"refetched"`
}

// Evictions are the bodies the caches gave up for room, and their bytes.
type Evictions struct {
	Disk   Count `json:"disk"`
	Memory Count `json:"memory"`
}

// Report is a snapshot priced: per bucket, in total, and the money saved.
type Report struct {
	Since    time.Time               `json:"since"`
	Prices   PricesJSON              `json:"prices"`
	ByBucket map[string]BucketReport `json:"by_bucket"`
	Total    BucketReport            `json:"total"`
	USDSaved float64                 `json:"usd_saved"`
}

// PricesJSON is Prices as the report shows them.
type PricesJSON struct {
	EgressPerGB float64 `json:"egress_per_gb"`
	GetPer1000  float64 `json:"get_per_1000"`
}

// Report prices s.
func (s Snapshot) Report(p Prices) Report {
	r := Report{Since: s.Since, Prices: PricesJSON(p), ByBucket: make(map[string]BucketReport, len(s.Buckets))}
	for name, c := range s.Buckets {
		r.ByBucket[name] = c.report(p)
	}
	r.Total = s.Total().report(p)
	r.USDSaved = r.Total.USDSaved
	return r
}

func (c Counts) report(p Prices) BucketReport {
	r := BucketReport{
		Memory:        c[Memory].plus(c[MemoryPeer]),
		Disk:          c[Disk],
		Peer:          c[Peer],
		Origin:        c[Origin].plus(c[Coalesced]),
		Coalesced:     c[Coalesced],
		Warm:          c[Warm],
		Revalidations: Revalidations{NotModified: c[NotModified], Refetched: c[Refetched]},
		Evictions:     Evictions{Disk: c[Evicted], Memory: c[EvictedMemory]},
	}
	r.Avoided = r.Memory.plus(r.Disk).plus(r.Peer).plus(r.Coalesced)
	gets := r.Avoided.Requests - r.Warm.Requests - r.Revalidations.NotModified.Requests
	bytes := r.Avoided.Bytes - r.Warm.Bytes
	r.USDSaved = p.USD(gets, bytes)
	return r
}
