package journal_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
)

// genRecord draws records for a few keys with few distinct versions, so that
// equal versions, ties on HLC and tombstones all come up often.
func genRecord() *rapid.Generator[objstore.Record] {
	return rapid.Custom(func(t *rapid.T) objstore.Record {
		r := objstore.Record{
			Key: objstore.Key{
				Bucket: rapid.SampledFrom([]string{"a", "ab"}).Draw(t, "bucket"),
				ID:     rapid.SampledFrom([]string{"x", "y", "x\x00"}).Draw(t, "id"),
			},
			Version: objstore.Version{
				HLC:  rapid.Uint64Range(1, 4).Draw(t, "hlc"),
				Node: rapid.SampledFrom([]string{"n1", "n2"}).Draw(t, "node"),
			},
			Deleted: rapid.Bool().Draw(t, "deleted"),
		}
		if r.Deleted {
			return r
		}
		r.Level = objstore.Level(rapid.IntRange(0, int(objstore.MaxLevel)).Draw(t, "level"))
		r.BodyVersion = r.Version
		if rapid.Bool().Draw(t, "keptbody") { // a level change kept an older body
			r.BodyVersion = objstore.Version{HLC: r.Version.HLC - 1, Node: "n1"}
		}
		r.Sum.Size = rapid.Int64Range(0, 1<<40).Draw(t, "size")
		r.Name = rapid.SampledFrom([]string{"", "f.txt"}).Draw(t, "name")
		r.InRemote = rapid.Bool().Draw(t, "inremote")
		if rapid.Bool().Draw(t, "hasmeta") {
			r.UserMeta = json.RawMessage(fmt.Sprintf(`{"v":%d}`, rapid.IntRange(0, 3).Draw(t, "meta")))
		}
		if rapid.Bool().Draw(t, "hasheaders") {
			r.Headers = map[string]string{"Cache-Control": rapid.SampledFrom([]string{"no-cache", "max-age=1"}).Draw(t, "cache")}
			if rapid.Bool().Draw(t, "expires") {
				r.Headers["Expires"] = "Thu, 01 Jan 2037 00:00:00 GMT"
			}
		}
		return r
	})
}

// TestMergeOrderIndependent applies one multiset of records in two orders
// to two fresh stores: both must end with the same records, counts and
// digests, the records must be the in-memory fold of objstore.Merge, and
// the digests a recomputation from them.
func TestMergeOrderIndependent(t *testing.T) {
	root := t.TempDir()
	var run int
	rapid.Check(t, func(rt *rapid.T) {
		recs := rapid.SliceOfN(genRecord(), 1, 30).Draw(rt, "records")
		orders := [][]objstore.Record{
			rapid.Permutation(recs).Draw(rt, "order1"),
			rapid.Permutation(recs).Draw(rt, "order2"),
		}
		var results [2]state
		for i, order := range orders {
			run++
			dir := filepath.Join(root, fmt.Sprint(run))
			results[i] = applyAll(rt, dir, order)
			_ = os.RemoveAll(dir) // only saves disk space; TempDir cleans up
		}
		a, b := results[0], results[1]
		if !reflect.DeepEqual(a.records, b.records) {
			rt.Fatalf("orders disagree:\n%+v\n%+v", a.records, b.records)
		}
		if a.counts != b.counts || a.counts != recount(a.records) {
			rt.Fatalf("counts %+v and %+v, recount %+v", a.counts, b.counts, recount(a.records))
		}
		if !slices.Equal(a.groups, b.groups) || !slices.Equal(a.leaves, b.leaves) {
			rt.Fatalf("orders give different digests")
		}
		if want := fold(recs); !reflect.DeepEqual(a.records, want) {
			rt.Fatalf("journal holds\n%+v\nfold is\n%+v", a.records, want)
		}
	})
}

// state is what a store holds after applyAll.
type state struct {
	records        []objstore.Record
	counts         objstore.Counts
	groups, leaves []uint64 // every group and leaf digest
}

// applyAll merges recs in order into a fresh store in dir, checking each
// changed flag and that the derived state matches the records, and returns
// the final state.
func applyAll(rt *rapid.T, dir string, recs []objstore.Record) state {
	s, err := journal.Open(filepath.Join(dir, "journal.db"), journal.Options{NoSync: true})
	if err != nil {
		rt.Fatalf("open: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			rt.Fatalf("close: %v", err)
		}
	}()
	for _, r := range recs {
		before, _ := s.Get(rt.Context(), r.Key) // zero when missing
		w, changed, err := s.Merge(rt.Context(), r)
		if err != nil {
			rt.Fatalf("merge: %v", err)
		}
		if changed == reflect.DeepEqual(w, before) {
			rt.Fatalf("merge %+v over %+v: winner %+v, changed %v", r, before, w, changed)
		}
	}
	checkDerived(rt, s)
	var st state
	if st.records, err = collect(rt.Context(), s); err != nil {
		rt.Fatalf("range: %v", err)
	}
	if st.counts, err = s.Counts(rt.Context()); err != nil {
		rt.Fatalf("counts: %v", err)
	}
	st.groups, st.leaves = digests(rt, s)
	return st
}

// fold is the expected journal content: objstore.Merge over each key's
// records, in key order.
func fold(recs []objstore.Record) []objstore.Record {
	byKey := map[objstore.Key]objstore.Record{}
	for _, r := range recs {
		if old, ok := byKey[r.Key]; ok {
			r = objstore.Merge(old, r)
		}
		byKey[r.Key] = r
	}
	out := make([]objstore.Record, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, r)
	}
	slices.SortFunc(out, keyOrder)
	return out
}
