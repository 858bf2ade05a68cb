package main

import (
	"sphere.software/objstore/bench/trace"

	"fmt"
	"math/rand/v2"
	"sort"
)

// phases: the trace's requests are sent in thirds (before, during and after
// a scan mixed into the middle one), with every request of a third answered
// before the next third starts, so the origin counts read between them say
// exactly which third a miss belongs to.
const phases = 3

// item is one GET: a key and the size of its object.
type item struct {
	key  string
	size int64
}

// workload is the subset of the trace as keys: the requests in order, every
// object once, and the two cold sets.
type workload struct {
	reqs    []item
	objects []item           // unique objects, in first-request order
	sizes   map[string]int64 // key -> size, for every object and cold object
	coldA   []item
	coldB   []item
	hot     map[string]bool // keys requested at least hotMin times in the subset
}

func newWorkload(reqs []trace.Request, prefix string, coldN, hotMin int) *workload {
	w := &workload{sizes: map[string]int64{}, hot: map[string]bool{}}
	n := map[string]int{}
	for _, r := range reqs {
		key := prefix + r.ID
		size, seen := w.sizes[key]
		if !seen {
			size = r.Size
			w.sizes[key] = size
			w.objects = append(w.objects, item{key, size})
		}
		w.reqs = append(w.reqs, item{key, size})
		if n[key]++; n[key] >= hotMin {
			w.hot[key] = true
		}
	}
	if coldN <= 0 {
		coldN = len(reqs) / 10
	}
	coldN = min(coldN, len(reqs))
	for i := range coldN {
		a := item{fmt.Sprintf("cold-a/%d", i), reqs[i].Size}
		b := item{fmt.Sprintf("cold-b/%d", i), reqs[i].Size}
		w.coldA, w.coldB = append(w.coldA, a), append(w.coldB, b)
		w.sizes[a.key], w.sizes[b.key] = a.size, b.size
	}
	return w
}

// set returns the items a get run reads: the trace's requests or a cold set
// cut to at most maxBytes (0: whole).
func (w *workload) set(name string, maxBytes int64) ([]item, error) {
	var items []item
	switch name {
	case "trace":
		return w.reqs, nil
	case "cold-a":
		items = w.coldA
	case "cold-b":
		items = w.coldB
	default:
		return nil, fmt.Errorf("-keys %q: want trace, cold-a or cold-b", name)
	}
	if maxBytes <= 0 {
		return items, nil
	}
	var sum int64
	for i, it := range items {
		if sum+it.size > maxBytes {
			return items[:i], nil
		}
		sum += it.size
	}
	return items, nil
}

func sumSizes(items []item) int64 {
	var n int64
	for _, it := range items {
		n += it.size
	}
	return n
}

// largest is the biggest size in items.
func largest(items []item) int64 {
	s := make([]int64, 0, len(items))
	for _, it := range items {
		s = append(s, it.size)
	}
	sort.Slice(s, func(i, j int) bool { return s[i] > s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[0]
}

// scanItems is the one-pass scan: objects scan/<i> that the trace never
// names, with sizes drawn from the subset's requests (a fixed seed, so setup
// and every get run agree), as many as fit in maxBytes. A smaller maxBytes
// gives a prefix of a larger one's list, so setup can create the largest.
func (w *workload) scanItems(maxBytes int64) []item {
	rng := rand.New(rand.NewPCG(1, 0))
	var items []item
	var sum int64
	for maxBytes > 0 && len(w.reqs) > 0 {
		size := w.reqs[rng.IntN(len(w.reqs))].size
		if sum+size > maxBytes {
			break
		}
		it := item{fmt.Sprintf("scan/%d", len(items)), size}
		items = append(items, it)
		w.sizes[it.key] = size
		sum += size
	}
	return items
}

// tracePhases splits the trace's requests in thirds and mixes scan into the
// middle one, its bytes kept in step with the progress through that third
// (as bench/cmd/tracesim does), so the scan is spread evenly across it.
func (w *workload) tracePhases(scan []item) [phases][]item {
	var out [phases][]item
	third := (len(w.reqs) + phases - 1) / phases
	var total, scanned int64
	total = sumSizes(scan)
	next := 0
	for i, it := range w.reqs {
		p := i / third
		out[p] = append(out[p], it)
		if p != 1 || total == 0 {
			continue
		}
		due := total * int64(i-third+1) / int64(min(third, len(w.reqs)-third))
		for scanned < due && next < len(scan) {
			out[p] = append(out[p], scan[next])
			scanned += scan[next].size
			next++
		}
	}
	out[1] = append(out[1], scan[next:]...) // rounding leftovers, if any
	return out
}
