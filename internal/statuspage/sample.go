package statuspage

import (
	"time"

	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/savings"
)

// Sample is the node's read counters at one moment, all since start.
type Sample struct {
	At time.Time
	// Hits are reads served without an origin GET of their own: from
	// memory, disk, a peer, or following a fill already in flight.
	Hits int64
	// Origin are reads that started an origin fill.
	Origin int64
	// Misses are reads answered 404.
	Misses int64
	// Bytes are the bytes of the bodies served (whole bodies, as the
	// savings count them).
	Bytes int64
	// USDSaved is the savings at the sampler's prices.
	USDSaved float64
}

// hitKinds are the savings kinds that count as hits.
var hitKinds = []savings.Kind{savings.Memory, savings.MemoryPeer, savings.Disk, savings.Peer, savings.Coalesced}

// SampleOf reads a sample out of the node's stats taken at at.
func SampleOf(at time.Time, st node.Stats, p savings.Prices) Sample {
	total := st.Savings.Total()
	s := Sample{At: at, Misses: st.Misses}
	for _, k := range hitKinds {
		c := total.Get(k)
		s.Hits += c.Requests
		s.Bytes += c.Bytes
	}
	o := total.Get(savings.Origin)
	s.Origin = o.Requests
	s.Bytes += o.Bytes
	s.USDSaved = st.Savings.Report(p).USDSaved
	return s
}

// Reads are the reads served: hits and origin reads (404s are not served).
func (s Sample) Reads() int64 { return s.Hits + s.Origin }

// Point is what happened between two samples, as the page draws it.
type Point struct {
	// At is the end of the span, in milliseconds since the epoch.
	At int64 `json:"t"`
	// Seconds is the span's length.
	Seconds float64 `json:"seconds"`
	// ReadsPerSec and BytesPerSec are the throughput of reads served.
	ReadsPerSec float64 `json:"reads_per_sec"`
	BytesPerSec float64 `json:"bytes_per_sec"`
	// HitRatio is hits over reads served in the span; -1 when nothing was
	// read (no ratio to draw).
	HitRatio float64 `json:"hit_ratio"`
	// MissesPerSec are reads answered 404.
	MissesPerSec float64 `json:"misses_per_sec"`
	// USDSaved is the savings since start at the span's end.
	USDSaved float64 `json:"usd_saved"`
}

// Points turns successive samples into the spans between them. A span
// whose counters went backwards (a sample of another process) is left out.
func Points(samples []Sample) []Point {
	out := make([]Point, 0, len(samples))
	for i := 1; i < len(samples); i++ {
		if p, ok := span(samples[i-1], samples[i]); ok {
			out = append(out, p)
		}
	}
	return out
}

func span(a, b Sample) (Point, bool) {
	secs := b.At.Sub(a.At).Seconds()
	hits, reads := b.Hits-a.Hits, b.Reads()-a.Reads()
	bytes, misses := b.Bytes-a.Bytes, b.Misses-a.Misses
	if secs <= 0 || hits < 0 || reads < 0 || bytes < 0 || misses < 0 {
		return Point{}, false
	}
	p := Point{At: b.At.UnixMilli(), Seconds: secs, ReadsPerSec: float64(reads) / secs,
		BytesPerSec: float64(bytes) / secs, MissesPerSec: float64(misses) / secs, HitRatio: -1, USDSaved: b.USDSaved}
	if reads > 0 {
		p.HitRatio = float64(hits) / float64(reads)
	}
	return p, true
}
