package journal_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
)

func TestMerge(t *testing.T) {
	older, newer := live("b", "k", 10, "n1", 5), live("b", "k", 20, "n1", 7)
	tests := []struct {
		name        string
		stored      []objstore.Record
		rec         objstore.Record
		wantWinner  objstore.Record
		wantChanged bool
	}{
		{"first write", nil, older, older, true},
		{"newer write wins", []objstore.Record{older}, newer, newer, true},
		{"older write ignored", []objstore.Record{newer}, older, newer, false},
		{"equal write ignored", []objstore.Record{older}, older, older, false},
		{"same hlc greater node wins", []objstore.Record{older}, live("b", "k", 10, "n2", 9), live("b", "k", 10, "n2", 9), true},
		{"same hlc lesser node ignored", []objstore.Record{live("b", "k", 10, "n2", 9)}, older, live("b", "k", 10, "n2", 9), false},
		{"tombstone beats older write", []objstore.Record{older}, tomb("b", "k", 15, "n1"), tomb("b", "k", 15, "n1"), true},
		{"older tombstone ignored", []objstore.Record{newer}, tomb("b", "k", 15, "n1"), newer, false},
		{"newer write beats older tombstone", []objstore.Record{tomb("b", "k", 15, "n1")}, newer, newer, true},
		{"equal tombstone ignored", []objstore.Record{tomb("b", "k", 15, "n1")}, tomb("b", "k", 15, "n1"), tomb("b", "k", 15, "n1"), false},
		{"tombstone of missing key stored", nil, tomb("b", "k", 15, "n1"), tomb("b", "k", 15, "n1"), true},
		{"raised level keeps body version", []objstore.Record{older}, raised(older, 11), raised(older, 11), true},
		{"raised level at same version", []objstore.Record{older}, withLevel(older, objstore.LevelFull), objstore.Merge(older, withLevel(older, objstore.LevelFull)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			for _, r := range tt.stored {
				merge(t, s, r)
			}
			w, changed := merge(t, s, tt.rec)
			if !reflect.DeepEqual(w, tt.wantWinner) || changed != tt.wantChanged {
				t.Errorf("Merge = %+v, %v; want %+v, %v", w, changed, tt.wantWinner, tt.wantChanged)
			}
			got, err := s.Get(t.Context(), tt.rec.Key)
			if err != nil || !reflect.DeepEqual(got, tt.wantWinner) {
				t.Errorf("Get = %+v, %v; want %+v", got, err, tt.wantWinner)
			}
		})
	}
}

// raised is r raised to LevelFull by a change at hlc that keeps the body.
func raised(r objstore.Record, hlc uint64) objstore.Record {
	r.Level = objstore.LevelFull
	r.Version = objstore.Version{HLC: hlc, Node: r.Version.Node}
	return r
}

func withLevel(r objstore.Record, l objstore.Level) objstore.Record {
	r.Level = l
	return r
}

func TestCounts(t *testing.T) {
	s := openTemp(t)
	steps := []struct {
		name string
		rec  objstore.Record
		want objstore.Counts
	}{
		{"create a", live("b", "a", 10, "n1", 10), objstore.Counts{Objects: 1, Bytes: 10}},
		{"overwrite a larger", live("b", "a", 11, "n1", 25), objstore.Counts{Objects: 1, Bytes: 25}},
		{"overwrite a smaller", live("b", "a", 12, "n1", 3), objstore.Counts{Objects: 1, Bytes: 3}},
		{"create b", live("b", "b", 13, "n1", 5), objstore.Counts{Objects: 2, Bytes: 8}},
		{"stale write of a ignored", live("b", "a", 1, "n1", 1000), objstore.Counts{Objects: 2, Bytes: 8}},
		{"delete a", tomb("b", "a", 14, "n1"), objstore.Counts{Objects: 1, Bytes: 5, Tombstones: 1}},
		{"delete a again", tomb("b", "a", 14, "n1"), objstore.Counts{Objects: 1, Bytes: 5, Tombstones: 1}},
		{"re-create a", live("b", "a", 15, "n1", 7), objstore.Counts{Objects: 2, Bytes: 12}},
		{"delete missing c", tomb("b", "c", 16, "n1"), objstore.Counts{Objects: 2, Bytes: 12, Tombstones: 1}},
		{"newer tombstone of c", tomb("b", "c", 17, "n2"), objstore.Counts{Objects: 2, Bytes: 12, Tombstones: 1}},
		{"stale write of c ignored", live("b", "c", 2, "n1", 50), objstore.Counts{Objects: 2, Bytes: 12, Tombstones: 1}},
		{"empty body", live("other", "z", 18, "n1", 0), objstore.Counts{Objects: 3, Bytes: 12, Tombstones: 1}},
		{"delete b", tomb("b", "b", 19, "n1"), objstore.Counts{Objects: 2, Bytes: 7, Tombstones: 2}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			merge(t, s, st.rec)
			checkCounts(t, s, st.want)
		})
	}
}

func TestGetNotFound(t *testing.T) {
	s := openTemp(t)
	merge(t, s, live("b", "k", 1, "n1", 1))
	for _, k := range []objstore.Key{{Bucket: "b", ID: "other"}, {Bucket: "c", ID: "k"}, {Bucket: "b", ID: "k\x00"}} {
		if _, err := s.Get(t.Context(), k); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", k, err)
		}
	}
}

func TestInvalidKeys(t *testing.T) {
	s := openTemp(t)
	tests := []struct {
		name string
		key  objstore.Key
	}{
		{"empty bucket", objstore.Key{ID: "k"}},
		{"empty id", objstore.Key{Bucket: "b"}},
		{"both empty", objstore.Key{}},
		{"nul in bucket", objstore.Key{Bucket: "b\x00c", ID: "k"}},
		{"too long", objstore.Key{Bucket: "b", ID: strings.Repeat("x", 40000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := live(tt.key.Bucket, tt.key.ID, 1, "n1", 1)
			if _, _, err := s.Merge(t.Context(), rec); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Merge error = %v, want ErrInvalidKey", err)
			}
			if _, err := s.Get(t.Context(), tt.key); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Get error = %v, want ErrInvalidKey", err)
			}
		})
	}
	checkCounts(t, s, objstore.Counts{})
}

func TestInvalidLevel(t *testing.T) {
	s := openTemp(t)
	rec := withLevel(live("b", "k", 1, "n1", 1), objstore.MaxLevel+1)
	if _, _, err := s.Merge(t.Context(), rec); !errors.Is(err, objstore.ErrInvalidLevel) {
		t.Errorf("Merge error = %v, want ErrInvalidLevel", err)
	}
}

func TestCanceledContext(t *testing.T) {
	s := openTemp(t)
	merge(t, s, live("b", "k", 1, "n1", 1))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	checks := map[string]error{}
	_, checks["Get"] = s.Get(ctx, objstore.Key{Bucket: "b", ID: "k"})
	_, _, checks["Merge"] = s.Merge(ctx, live("b", "k", 2, "n1", 1))
	_, checks["Counts"] = s.Counts(ctx)
	checks["Range"] = s.Range(ctx, func(objstore.Record) bool { return true })
	for op, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with canceled context: error = %v, want context.Canceled", op, err)
		}
	}
}

// TestConcurrentMerge merges from 50 goroutines at once, with fsync, over
// keys they share, and checks that the result is the sequential fold.
func TestConcurrentMerge(t *testing.T) {
	const (
		workers = 50
		each    = 40
		keys    = 64
	)
	s := openAt(t, filepath.Join(t.TempDir(), "journal.db"), journal.Options{})
	var wg sync.WaitGroup
	recs := make([][]objstore.Record, workers)
	for w := range workers {
		for i := range each {
			n := w*each + i
			r := live("b", keyName(n%keys), uint64(1+n%97), nodeName(w), int64(n))
			if n%5 == 0 {
				r = tomb("b", keyName(n%keys), uint64(1+n%97), nodeName(w))
			}
			recs[w] = append(recs[w], r)
		}
		wg.Go(func() {
			for _, r := range recs[w] {
				if _, _, err := s.Merge(t.Context(), r); err != nil {
					t.Errorf("merge: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	want := map[objstore.Key]objstore.Record{}
	for _, rs := range recs {
		for _, r := range rs {
			if old, ok := want[r.Key]; ok {
				r = objstore.Merge(old, r)
			}
			want[r.Key] = r
		}
	}
	wantAll := make([]objstore.Record, 0, len(want))
	for _, r := range want {
		wantAll = append(wantAll, r)
	}
	got := all(t, s)
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for _, r := range got {
		if !reflect.DeepEqual(r, want[r.Key]) {
			t.Errorf("%s = %+v, want %+v", r.Key, r, want[r.Key])
		}
	}
	checkCounts(t, s, recount(wantAll))
}

func keyName(i int) string  { return fmt.Sprintf("key-%05d", i) }
func nodeName(i int) string { return fmt.Sprintf("node-%02d", i) }
