package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"sphere.software/objstore/internal/evict"
)

// simResult is one offline replay of the subset through internal/evict.
type simResult struct {
	Policy     string  `json:"policy"`
	Capacity   int64   `json:"capacity"`
	Misses     int     `json:"misses"`
	MissBytes  int64   `json:"miss_bytes"`
	ObjectMiss float64 `json:"object_miss_ratio"`
	ByteMiss   float64 `json:"byte_miss_ratio"`
}

// simulate replays the subset's requests (the sizes the origin holds)
// through LRU and S3-FIFO at each capacity (shares of the unique bytes in
// c.simShares), with the node's default admission limit: the offline
// reference the replays are compared with.
func simulate(_ context.Context, c config, w *workload) ([]simResult, error) {
	unique := sumSizes(w.objects)
	reqBytes := sumSizes(w.reqs)
	var out []simResult
	for _, f := range strings.Split(c.simShares, ",") {
		share, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || share <= 0 {
			return nil, fmt.Errorf("-sim-shares %q: %q is not a share", c.simShares, f)
		}
		capacity := int64(float64(unique) * share)
		for _, m := range []struct {
			name string
			mode evict.Mode
		}{{"lru", evict.ModeLRU}, {"s3fifo", evict.ModeS3FIFO}} {
			p, err := evict.New(capacity, evict.Options{Mode: m.mode})
			if err != nil {
				return nil, fmt.Errorf("policy %s at %d: %w", m.name, capacity, err)
			}
			r := simResult{Policy: m.name, Capacity: capacity}
			for _, it := range w.reqs {
				if p.Access(it.key) {
					continue
				}
				r.Misses++
				r.MissBytes += it.size
				p.Admit(it.key, it.size)
			}
			r.ObjectMiss = float64(r.Misses) / float64(len(w.reqs))
			r.ByteMiss = float64(r.MissBytes) / float64(reqBytes)
			out = append(out, r)
		}
	}
	return out, nil
}
