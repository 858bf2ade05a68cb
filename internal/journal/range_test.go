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

func TestScan(t *testing.T) {
	s := openTemp(t)
	var recs []objstore.Record
	for i := range 2600 { // several pages
		recs = append(recs, live("b", keyName(i), uint64(i+1), "n1", 1))
	}
	recs = append(recs, live("a", "before", 1, "n1", 1), live("c", "after", 1, "n1", 1), live("b\x01", "x", 1, "n1", 1))
	mergeAll(t, s, recs)
	scan := func(bucket, after string, limit int) []string {
		var ids []string
		err := s.Scan(t.Context(), bucket, after, func(r objstore.Record) bool {
			if r.Bucket != bucket {
				t.Fatalf("Scan of %q returned a record of bucket %q", bucket, r.Bucket)
			}
			ids = append(ids, r.ID)
			return len(ids) < limit
		})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		return ids
	}
	if got := scan("b", "", 1<<30); len(got) != 2600 || got[0] != keyName(0) || got[2599] != keyName(2599) {
		t.Fatalf("full scan: %d ids", len(got))
	}
	if got := scan("b", keyName(1500), 1<<30); len(got) != 1100 || got[0] != keyName(1500) {
		t.Fatalf("scan from %s: %d ids starting %v", keyName(1500), len(got), got[:1])
	}
	if got := scan("b", keyName(1500)+"\x00", 1<<30); len(got) != 1099 || got[0] != keyName(1501) {
		t.Fatalf("scan from just after %s: %d ids starting %v", keyName(1500), len(got), got[:1])
	}
	if got := scan("b", keyName(10), 3); !slices.Equal(got, []string{keyName(10), keyName(11), keyName(12)}) {
		t.Fatalf("scan stopped by fn: %v", got)
	}
	if got := scan("zz", "", 10); len(got) != 0 {
		t.Fatalf("scan of an empty bucket: %v", got)
	}
	if err := s.Scan(t.Context(), "", "", func(objstore.Record) bool { return true }); err == nil {
		t.Fatal("Scan of an empty bucket name: want an error")
	}
}
