package evict

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyTakeReads: a policy whose caller counts reads itself
// (Options.TakeReads) makes the same decisions as one told of each read by
// Access, because counters only matter at a FIFO's tail, where the counted
// reads are taken.
func TestPropertyTakeReads(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts := Options{ // ModeLRU ignores TakeReads
			MaxObjectFraction: rapid.SampledFrom([]float64{0, 0.5, 1}).Draw(t, "maxfrac"),
			SecondMiss:        rapid.Bool().Draw(t, "secondmiss"),
		}
		capacity := rapid.Int64Range(0, 200).Draw(t, "capacity")
		p, err := New(capacity, opts)
		if err != nil {
			t.Fatal(err)
		}
		reads := map[string]int{} // the caller's counts, one per tracked key
		opts.TakeReads = func(key string) int {
			n := reads[key]
			delete(reads, key)
			return n
		}
		q, err := New(capacity, opts)
		if err != nil {
			t.Fatal(err)
		}
		mp := &model{tracked: map[string]int64{}, pins: map[string]int{}}
		mq := &model{tracked: map[string]int64{}, pins: map[string]int{}}
		for i := range rapid.IntRange(1, 300).Draw(t, "n") {
			o := drawOp(t, fmt.Sprint(i))
			a := apply(t, p, mp, o)
			var b result
			if o.kind <= 1 { // a read: counted by the caller, no Access
				if b.hit = q.Has(o.key); b.hit {
					reads[o.key]++
				}
			} else {
				b = apply(t, q, mq, o)
			}
			for _, e := range b.evicted { // the caller's entry goes with its count
				delete(reads, e.Key)
			}
			if o.kind == 7 && o.size >= 5 {
				delete(reads, o.key)
			}
			if a.hit != b.hit || a.err != b.err || !slices.Equal(a.evicted, b.evicted) {
				t.Fatalf("op %d %+v: Access %+v, TakeReads %+v", i, o, a, b)
			}
		}
	})
}
