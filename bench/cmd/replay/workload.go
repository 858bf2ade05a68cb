package main

import (
	"sphere.software/objstore/bench/trace"

	"fmt"
	"sort"
)

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
}

func newWorkload(reqs []trace.Request, prefix string, coldN int) *workload {
	w := &workload{sizes: map[string]int64{}}
	for _, r := range reqs {
		key := prefix + r.ID
		size, seen := w.sizes[key]
		if !seen {
			size = r.Size
			w.sizes[key] = size
			w.objects = append(w.objects, item{key, size})
		}
		w.reqs = append(w.reqs, item{key, size})
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
