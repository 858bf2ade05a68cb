package journal_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"sphere.software/objstore"
)

// keyOrder is the order Range promises: bucket, then ID, bytewise.
func keyOrder(a, b objstore.Record) int {
	if c := compareStrings(a.Bucket, b.Bucket); c != 0 {
		return c
	}
	return compareStrings(a.ID, b.ID)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestRange(t *testing.T) {
	tests := []struct {
		name string
		n    int // records; more than one page exercises the resume path
	}{
		{"empty", 0},
		{"one", 1},
		{"exactly one page", 1000},
		{"several pages", 2600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			want := make([]objstore.Record, 0, tt.n)
			for i := range tt.n {
				want = append(want, live("bucket", keyName(i), uint64(i+1), "n1", int64(i)))
			}
			shuffled := slices.Clone(want)
			rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			mergeAll(t, s, shuffled)
			if got := all(t, s); !slices.EqualFunc(got, want, recordsEqual) {
				t.Fatalf("Range returned %d records, want %d in key order", len(got), len(want))
			}
		})
	}
}

// numbered is n live records b/key-00000, b/key-00001, ….
func numbered(n int) []objstore.Record {
	recs := make([]objstore.Record, n)
	for i := range recs {
		recs[i] = live("b", keyName(i), 1, "n1", 1)
	}
	return recs
}

func recordsEqual(a, b objstore.Record) bool { return a.Key == b.Key && a.Version == b.Version }

func TestRangeKeyOrder(t *testing.T) {
	s := openTemp(t)
	// "a" sorts before "ab" as a bucket even though "a\x00…" and "ab…"
	// share a prefix; an ID may contain 0x00 itself.
	var recs []objstore.Record
	for _, b := range []string{"ab", "a", "b", "a-b"} {
		for _, id := range []string{"z", "a", "a\x00b", "a/b", "ä"} {
			recs = append(recs, live(b, id, 1, "n1", 1))
		}
	}
	recs = append(recs, tomb("a", "dead", 2, "n1"))
	for _, r := range recs {
		merge(t, s, r)
	}
	slices.SortFunc(recs, keyOrder)
	if got := all(t, s); !slices.EqualFunc(got, recs, recordsEqual) {
		t.Errorf("Range order:\n got %v\nwant %v", keys(got), keys(recs))
	}
}

func keys(recs []objstore.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.String()
	}
	return out
}

func TestRangeEarlyStop(t *testing.T) {
	s := openTemp(t)
	mergeAll(t, s, numbered(2500))
	for _, stopAt := range []int{1, 2, 999, 1000, 1001, 2500} {
		var n int
		err := s.Range(t.Context(), func(objstore.Record) bool {
			n++
			return n < stopAt
		})
		if err != nil || n != stopAt {
			t.Errorf("stop at %d: fn called %d times, err %v", stopAt, n, err)
		}
	}
}

func TestRangeCanceledMidway(t *testing.T) {
	s := openTemp(t)
	mergeAll(t, s, numbered(2500))
	ctx, cancel := context.WithCancel(t.Context())
	var n int
	err := s.Range(ctx, func(objstore.Record) bool {
		n++
		if n == 10 {
			cancel()
		}
		return true
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Range error = %v, want context.Canceled", err)
	}
	if n >= 1000 {
		t.Errorf("Range went on for %d records after cancel", n)
	}
}

// TestRangeWithMerge merges from inside fn, as anti-entropy does; this must
// not deadlock and later pages see the new records.
func TestRangeWithMerge(t *testing.T) {
	s := openTemp(t)
	var recs []objstore.Record
	for i := range 1500 {
		recs = append(recs, live("b", keyName(2*i), 1, "n1", 1))
	}
	mergeAll(t, s, recs)
	var n int
	err := s.Range(t.Context(), func(r objstore.Record) bool {
		n++
		if _, _, err := s.Merge(t.Context(), tomb(r.Bucket, r.ID, 2, "n1")); err != nil {
			t.Errorf("merge inside Range: %v", err)
			return false
		}
		if r.ID == keyName(0) {
			merge(t, s, live("b", keyName(2999), 1, "n1", 1)) // after the first page
		}
		return true
	})
	if err != nil || n != 1501 {
		t.Fatalf("Range saw %d records, err %v; want 1501", n, err)
	}
	checkCounts(t, s, objstore.Counts{Tombstones: 1501})
}
