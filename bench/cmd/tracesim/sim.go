package main

import (
	"sphere.software/objstore/bench/trace"

	"fmt"
	"math/rand/v2"

	"sphere.software/objstore/internal/evict"
)

// windows splits the trace in thirds: before, during and after the scan.
const windows = 3

// result is one replay of the trace through one policy.
type result struct {
	requests, misses      int64 // trace requests only, not the scan's
	reqBytes, missedBytes int64
	hot, hotHits          [windows]int64 // requests to hot objects per third, and their hits
	scanReqs              int64
	evictions             int64
}

func (r result) objectMiss() float64 { return ratio(r.misses, r.requests) }
func (r result) byteMiss() float64   { return ratio(r.missedBytes, r.reqBytes) }
func (r result) hotHit(w int) float64 {
	return ratio(r.hotHits[w], r.hot[w])
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// cache is the policy with the sizes it holds. The trace has requests for
// a known id with another size (4,876 of 66,987 in the AdaptSize sample):
// with resizedMiss such a request is a miss (the object changed, as a
// cache checking the ETag would see it), otherwise a hit that updates the
// size, as the reference simulation in the trace's README counts it.
type cache struct {
	p           *evict.Policy
	sizes       map[string]int64
	resizedMiss bool
}

func newCache(capacity int64, opts evict.Options, resizedMiss bool) (*cache, error) {
	p, err := evict.New(capacity, opts)
	if err != nil {
		return nil, err
	}
	return &cache{p: p, sizes: make(map[string]int64), resizedMiss: resizedMiss}, nil
}

// get replays one read and reports whether it hit; a miss is offered for
// admission, as a read-through would. It returns the evictions.
func (c *cache) get(id string, size int64) (hit bool, evicted int) {
	if c.p.Access(id) {
		if c.sizes[id] == size {
			return true, 0
		}
		if !c.resizedMiss {
			ev := c.admit(id, size)
			return true, ev
		}
	}
	return false, c.admit(id, size)
}

// admit offers id after a miss (or a resize) and returns the evictions.
func (c *cache) admit(id string, size int64) int {
	ev, ok := c.p.Admit(id, size)
	for _, e := range ev {
		delete(c.sizes, e.Key)
	}
	if ok {
		c.sizes[id] = size
	} else {
		// Declined: a resized entry may have been dropped by Admit's
		// limits; the policy no longer counts it either way.
		delete(c.sizes, id)
	}
	return len(ev)
}

// scan is a one-pass scan of never-seen objects mixed into the middle
// third of the trace: bytes in all, sizes drawn from the trace's own.
type scan struct {
	bytes int64
	seed  uint64
}

// replay runs reqs through c, with s mixed in when s.bytes > 0. hot marks
// the ids counted in the hot-set hit ratios.
func replay(c *cache, reqs []trace.Request, hot map[string]bool, s scan) result {
	var r result
	rng := rand.New(rand.NewPCG(s.seed, 0))
	third := (len(reqs) + windows - 1) / windows
	var scanned int64
	for i, q := range reqs {
		w := i / third
		hit, ev := c.get(q.ID, q.Size)
		r.evictions += int64(ev)
		r.requests++
		r.reqBytes += q.Size
		if !hit {
			r.misses++
			r.missedBytes += q.Size
		}
		if hot[q.ID] {
			r.hot[w]++
			if hit {
				r.hotHits[w]++
			}
		}
		if w != 1 || s.bytes == 0 {
			continue
		}
		// Keep the scan's bytes in step with the progress through the
		// middle third, so it is spread evenly across it.
		due := s.bytes * int64(i-third+1) / int64(min(third, len(reqs)-third))
		for scanned < due {
			size := reqs[rng.IntN(len(reqs))].Size
			_, ev := c.get(fmt.Sprintf("scan-%d", r.scanReqs), size)
			r.evictions += int64(ev)
			r.scanReqs++
			scanned += size
		}
	}
	return r
}

// hotSet returns the ids requested at least min times in the trace.
func hotSet(reqs []trace.Request, min int) map[string]bool {
	n := make(map[string]int)
	for _, q := range reqs {
		n[q.ID]++
	}
	hot := make(map[string]bool)
	for id, c := range n {
		if c >= min {
			hot[id] = true
		}
	}
	return hot
}

// uniqueBytes is the sum of each object's size at its first request.
func uniqueBytes(reqs []trace.Request) (objects int, bytes int64) {
	seen := make(map[string]bool)
	for _, q := range reqs {
		if !seen[q.ID] {
			seen[q.ID] = true
			bytes += q.Size
		}
	}
	return len(seen), bytes
}
