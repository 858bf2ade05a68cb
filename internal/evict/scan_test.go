package evict

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// hotHits replays n reads of a uniformly chosen key of a hot set, each
// followed by scanPer reads of never-seen keys (a one-pass scan), and
// returns the share of hot reads that hit. A miss is admitted, as a
// read-through would.
func hotHits(p *Policy, rng *rand.Rand, hot, n, scanPer int, next *int) float64 {
	hits := 0
	for range n {
		k := fmt.Sprintf("hot%d", rng.IntN(hot))
		if p.Access(k) {
			hits++
		} else {
			p.Admit(k, 1)
		}
		for range scanPer {
			*next++
			k := fmt.Sprintf("scan%d", *next)
			if !p.Access(k) {
				p.Admit(k, 1)
			}
		}
	}
	return float64(hits) / float64(n)
}

// TestScanResistance: a hot set of 100 objects in a cache of 150, then a
// one-pass scan of 6,000 objects (40× the capacity) mixed in, three scan
// reads per hot read. The hot set's hit ratio must stay high with S3-FIFO
// and collapse with LRU.
func TestScanResistance(t *testing.T) {
	const capacity, hot, n = 150, 100, 2000
	tests := []struct {
		name      string
		opts      Options
		minDuring float64 // S3-FIFO must stay above
		maxDuring float64 // LRU must fall below
	}{
		{"s3fifo", Options{}, 0.95, 1},
		{"s3fifo second miss", Options{SecondMiss: true}, 0.95, 1},
		{"lru", Options{Mode: ModeLRU}, 0, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolicy(t, capacity, tt.opts)
			rng := rand.New(rand.NewPCG(1, 2))
			next := 0
			hotHits(p, rng, hot, n, 0, &next) // warm up
			before := hotHits(p, rng, hot, n, 0, &next)
			during := hotHits(p, rng, hot, n, 3, &next)
			after := hotHits(p, rng, hot, n, 0, &next)
			t.Logf("hot hit ratio before %.3f during %.3f after %.3f", before, during, after)
			if before < 0.99 {
				t.Errorf("before the scan %.3f, want ≥ 0.99", before)
			}
			if during < tt.minDuring || during > tt.maxDuring {
				t.Errorf("during the scan %.3f, want in [%.2f, %.2f]", during, tt.minDuring, tt.maxDuring)
			}
			if tt.opts.Mode == ModeS3FIFO && after < 0.99 {
				t.Errorf("after the scan %.3f, want ≥ 0.99", after)
			}
		})
	}
}
