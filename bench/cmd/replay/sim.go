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
	Policy     string    `json:"policy"`
	Capacity   int64     `json:"capacity"`
	ScanBytes  int64     `json:"scan_bytes"`
	Misses     int       `json:"misses"`
	MissBytes  int64     `json:"miss_bytes"`
	ObjectMiss float64   `json:"object_miss_ratio"`
	ByteMiss   float64   `json:"byte_miss_ratio"`
	HotHit     []float64 `json:"hot_hit_ratio"` // per third, as the get mode's
}

// simulate replays the subset's requests (the sizes the origin holds)
// through LRU, S3-FIFO and S3-FIFO with second-miss admission at each
// capacity (shares of the unique bytes in c.simShares), with the node's
// default admission limit: the offline reference the replays are compared
// with. With -sim-scan X, a scan of X times the capacity is mixed into the
// middle third, as the get mode mixes it.
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
		scan := w.scanItems(int64(c.simScan * float64(capacity)))
		parts := w.tracePhases(scan)
		for _, m := range []struct {
			name string
			opts evict.Options
		}{{"lru", evict.Options{Mode: evict.ModeLRU}}, {"s3fifo", evict.Options{Mode: evict.ModeS3FIFO}},
			{"s3fifo-second-miss", evict.Options{Mode: evict.ModeS3FIFO, SecondMiss: true}}} {
			p, err := evict.New(capacity, m.opts)
			if err != nil {
				return nil, fmt.Errorf("policy %s at %d: %w", m.name, capacity, err)
			}
			r := simResult{Policy: m.name, Capacity: capacity, ScanBytes: sumSizes(scan)}
			for _, part := range parts {
				hot, hotHits := 0, 0
				for _, it := range part {
					hit := p.Access(it.key)
					if !hit {
						p.Admit(it.key, it.size)
					}
					if strings.HasPrefix(it.key, "scan/") {
						continue
					}
					if w.hot[it.key] {
						hot++
						if hit {
							hotHits++
						}
					}
					if !hit {
						r.Misses++
						r.MissBytes += it.size
					}
				}
				r.HotHit = append(r.HotHit, float64(hotHits)/float64(max(hot, 1)))
			}
			r.ObjectMiss = float64(r.Misses) / float64(len(w.reqs))
			r.ByteMiss = float64(r.MissBytes) / float64(reqBytes)
			out = append(out, r)
		}
	}
	return out, nil
}
