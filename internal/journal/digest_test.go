package journal_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
)

// fataler is what the digest helpers need of a *testing.T or a *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// allGroups is every group number, for LeafDigests.
var allGroups = func() []uint8 {
	g := make([]uint8, objstore.DigestGroups)
	for i := range g {
		g[i] = uint8(i)
	}
	return g
}()

// recomputeDigests computes the group and leaf digests of recs from scratch.
func recomputeDigests(recs []objstore.Record) (groups, leaves []uint64) {
	groups = make([]uint64, objstore.DigestGroups)
	leaves = make([]uint64, objstore.DigestLeaves)
	for _, r := range recs {
		l, h := objstore.LeafOf(r.Key), objstore.RecordHash(r)
		leaves[l] ^= h
		groups[objstore.GroupOf(l)] ^= h
	}
	return groups, leaves
}

// digests returns the stored group digests and the leaf digests of every
// group, which are all objstore.DigestLeaves of them in leaf order.
func digests(t fataler, s *journal.Store) (groups, leaves []uint64) {
	t.Helper()
	groups, err := s.GroupDigests(context.Background())
	if err != nil {
		t.Fatalf("group digests: %v", err)
	}
	leaves, err = s.LeafDigests(context.Background(), allGroups)
	if err != nil {
		t.Fatalf("leaf digests: %v", err)
	}
	if len(groups) != objstore.DigestGroups || len(leaves) != objstore.DigestLeaves {
		t.Fatalf("got %d group and %d leaf digests", len(groups), len(leaves))
	}
	return groups, leaves
}

// checkDerived fails unless everything derived from the records matches
// them: the stored indexes, digests and counts (journal.Verify), the digests
// that GroupDigests and LeafDigests return, and LeafRecords of every leaf.
func checkDerived(t fataler, s *journal.Store) {
	t.Helper()
	if err := journal.Verify(s); err != nil {
		t.Fatalf("verify: %v", err)
	}
	recs, err := collect(context.Background(), s)
	if err != nil {
		t.Fatalf("range: %v", err)
	}
	wantG, wantL := recomputeDigests(recs)
	gotG, gotL := digests(t, s)
	if i := firstDiff(gotG, wantG); i >= 0 {
		t.Fatalf("group %d digest = %x, recomputed %x", i, gotG[i], wantG[i])
	}
	if i := firstDiff(gotL, wantL); i >= 0 {
		t.Fatalf("leaf %d digest = %x, recomputed %x", i, gotL[i], wantL[i])
	}
	got := leafRecords(t, s, usedLeaves(recs))
	slices.SortFunc(got, keyOrder)
	if !slices.EqualFunc(got, recs, recordsEqual) {
		t.Fatalf("LeafRecords of every used leaf gave %d records, Range %d", len(got), len(recs))
	}
}

// firstDiff is the first index at which a and b differ, or -1.
func firstDiff(a, b []uint64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// usedLeaves is the leaves of recs, in record order, with repeats.
func usedLeaves(recs []objstore.Record) []uint16 {
	out := make([]uint16, len(recs))
	for i, r := range recs {
		out[i] = objstore.LeafOf(r.Key)
	}
	return out
}

// leafRecords returns what LeafRecords hands out for leaves, in its order.
func leafRecords(t fataler, s *journal.Store, leaves []uint16) []objstore.Record {
	t.Helper()
	var out []objstore.Record
	err := s.LeafRecords(context.Background(), leaves, func(r objstore.Record) bool {
		out = append(out, r)
		return true
	})
	if err != nil {
		t.Fatalf("leaf records: %v", err)
	}
	return out
}

// genManyKeysRecord is genRecord over more keys, so that expiry and
// overwrites mix with records that stay.
func genManyKeysRecord() *rapid.Generator[objstore.Record] {
	return rapid.Custom(func(t *rapid.T) objstore.Record {
		r := genRecord().Draw(t, "record")
		r.ID = fmt.Sprintf("k%d", rapid.IntRange(0, 12).Draw(t, "key"))
		return r
	})
}

// TestDigestsMatchRecompute applies random merges and expiries to a store
// with small pages: after each expiry and at the end, everything derived
// must equal a recomputation from the records.
func TestDigestsMatchRecompute(t *testing.T) {
	root := t.TempDir()
	var run int
	rapid.Check(t, func(rt *rapid.T) {
		run++
		s := openRapid(rt, filepath.Join(root, fmt.Sprint(run)))
		journal.SetPage(s, rapid.IntRange(1, 4).Draw(rt, "page"))
		ops := rapid.IntRange(1, 60).Draw(rt, "ops")
		for range ops {
			if rapid.IntRange(0, 9).Draw(rt, "op") > 0 {
				if _, _, err := s.Merge(rt.Context(), genManyKeysRecord().Draw(rt, "merge")); err != nil {
					rt.Fatalf("merge: %v", err)
				}
				continue
			}
			before := rapid.Uint64Range(0, 5).Draw(rt, "expire")
			recs, err := collect(rt.Context(), s)
			if err != nil {
				rt.Fatalf("range: %v", err)
			}
			want := expirable(recs, before)
			n, err := s.ExpireTombstones(rt.Context(), before)
			if err != nil || n != want {
				rt.Fatalf("expire before %d = %d, %v; want %d", before, n, err, want)
			}
			checkDerived(rt, s)
		}
		checkDerived(rt, s)
	})
}

// openRapid opens a fresh store in dir for one rapid run and closes it and
// removes dir after the run.
func openRapid(rt *rapid.T, dir string) *journal.Store {
	s, err := journal.Open(filepath.Join(dir, "journal.db"), journal.Options{NoSync: true})
	if err != nil {
		rt.Fatalf("open: %v", err)
	}
	rt.Cleanup(func() {
		if err := s.Close(); err != nil {
			rt.Errorf("close: %v", err)
		}
		_ = os.RemoveAll(dir) // only saves disk space; TempDir cleans up
	})
	return s
}

// expirable counts the tombstones of recs older than before.
func expirable(recs []objstore.Record, before uint64) int {
	n := 0
	for _, r := range recs {
		if r.Deleted && r.Version.HLC < before {
			n++
		}
	}
	return n
}

// TestDigestsOneDifference checks that two stores whose records differ in
// one key differ in exactly that key's group and leaf.
func TestDigestsOneDifference(t *testing.T) {
	base := numbered(500)
	for i := 0; i < len(base); i += 7 {
		base[i] = tomb(base[i].Bucket, base[i].ID, base[i].Version.HLC+1000, "n2")
	}
	tests := []struct {
		name  string
		extra objstore.Record
	}{
		{"new key", live("other", "extra", 5, "n1", 9)},
		{"new tombstone", tomb("other", "extra", 5, "n1")},
		{"newer version", raised(base[3], 9999)},
		{"deleted", tomb(base[3].Bucket, base[3].ID, 9999, "n1")},
		{"same version other node", tomb(base[7].Bucket, base[7].ID, base[7].Version.HLC, "n3")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := openTemp(t), openTemp(t)
			mergeAll(t, a, base)
			mergeAll(t, b, base)
			merge(t, b, tt.extra)
			checkDerived(t, a)
			checkDerived(t, b)
			leaf := objstore.LeafOf(tt.extra.Key)
			ga, la := digests(t, a)
			gb, lb := digests(t, b)
			if d := diffIndexes(ga, gb); !slices.Equal(d, []int{int(objstore.GroupOf(leaf))}) {
				t.Errorf("groups that differ: %v, want [%d]", d, objstore.GroupOf(leaf))
			}
			if d := diffIndexes(la, lb); !slices.Equal(d, []int{int(leaf)}) {
				t.Errorf("leaves that differ: %v, want [%d]", d, leaf)
			}
		})
	}
}

// diffIndexes returns the indexes at which a and b differ.
func diffIndexes(a, b []uint64) []int {
	var out []int
	for i := range a {
		if a[i] != b[i] {
			out = append(out, i)
		}
	}
	return out
}

func TestLeafDigestsOrder(t *testing.T) {
	s := openTemp(t)
	mergeAll(t, s, numbered(300))
	_, leaves := digests(t, s)
	groups := []uint8{7, 0, 255, 7, 3}
	got, err := s.LeafDigests(t.Context(), groups)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(groups)*objstore.LeavesPerGroup {
		t.Fatalf("got %d digests for %d groups", len(got), len(groups))
	}
	for i, g := range groups {
		want := leaves[int(g)*objstore.LeavesPerGroup : (int(g)+1)*objstore.LeavesPerGroup]
		if !slices.Equal(got[i*objstore.LeavesPerGroup:(i+1)*objstore.LeavesPerGroup], want) {
			t.Errorf("digests of groups[%d] = %d are not group %d's", i, g, g)
		}
	}
	if got, err := s.LeafDigests(t.Context(), nil); err != nil || len(got) != 0 {
		t.Errorf("LeafDigests(nil) = %d values, %v", len(got), err)
	}
}

func TestDigestsEmpty(t *testing.T) {
	s := openTemp(t)
	groups, leaves := digests(t, s)
	if slices.ContainsFunc(groups, nonzero) || slices.ContainsFunc(leaves, nonzero) {
		t.Error("an empty store has nonzero digests")
	}
}

func nonzero(d uint64) bool { return d != 0 }

// sameLeaf returns n IDs other than "key-00000" whose keys in bucket b fall
// in the leaf of b/key-00000.
func sameLeaf(b string, n int) []string {
	target := objstore.LeafOf(objstore.Key{Bucket: b, ID: keyName(0)})
	var out []string
	for i := 0; len(out) < n; i++ {
		id := fmt.Sprintf("probe-%d", i)
		if objstore.LeafOf(objstore.Key{Bucket: b, ID: id}) == target {
			out = append(out, id)
		}
	}
	return out
}

func TestLeafRecords(t *testing.T) {
	recs := numbered(3000)
	for i := 0; i < len(recs); i += 5 {
		recs[i] = tomb(recs[i].Bucket, recs[i].ID, recs[i].Version.HLC, "n2")
	}
	for i, id := range sameLeaf("b", 6) { // one leaf of 7 records, split by pages
		recs = append(recs, live("b", id, uint64(5000+i), "n1", 3))
	}
	for _, page := range []int{1, 3, 1000} {
		t.Run(fmt.Sprintf("page=%d", page), func(t *testing.T) {
			s := openTemp(t)
			journal.SetPage(s, page)
			mergeAll(t, s, recs)
			stored := all(t, s)
			checkDerived(t, s)
			rng := rand.New(rand.NewPCG(uint64(page), 1))
			for round := range 20 {
				leaves := pickLeaves(rng, stored, round)
				got := leafRecords(t, s, leaves)
				want := inLeaves(stored, leaves)
				if !slices.EqualFunc(got, want, func(a, b objstore.Record) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
					t.Fatalf("round %d: LeafRecords of %d leaves gave %d records, want %d", round, len(leaves), len(got), len(want))
				}
			}
		})
	}
}

// pickLeaves picks some leaves that hold records and some that may not, in
// random order with repeats; round 0 picks none.
func pickLeaves(rng *rand.Rand, recs []objstore.Record, round int) []uint16 {
	var leaves []uint16
	for range round * 7 {
		leaves = append(leaves, objstore.LeafOf(recs[rng.IntN(len(recs))].Key), uint16(rng.Uint32()))
	}
	leaves = append(leaves, objstore.LeafOf(objstore.Key{Bucket: "b", ID: keyName(0)}))
	if round == 0 {
		return nil
	}
	return leaves
}

// inLeaves is what LeafRecords promises for leaves: the records of recs in
// those leaves, ordered by leaf and then by key.
func inLeaves(recs []objstore.Record, leaves []uint16) []objstore.Record {
	var out []objstore.Record
	for _, r := range recs {
		if slices.Contains(leaves, objstore.LeafOf(r.Key)) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b objstore.Record) int {
		return int(objstore.LeafOf(a.Key)) - int(objstore.LeafOf(b.Key))
	})
	return out
}

func TestLeafRecordsStops(t *testing.T) {
	s := openTemp(t)
	journal.SetPage(s, 4)
	recs := numbered(50)
	mergeAll(t, s, recs)
	leaves := usedLeaves(recs)

	var n int
	err := s.LeafRecords(t.Context(), leaves, func(objstore.Record) bool { n++; return n < 10 })
	if err != nil || n != 10 {
		t.Errorf("LeafRecords stopping at 10 called fn %d times, err %v", n, err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	n = 0
	err = s.LeafRecords(ctx, leaves, func(objstore.Record) bool { n++; cancel(); return true })
	if !errors.Is(err, context.Canceled) || n > 4 {
		t.Errorf("LeafRecords canceled in fn: %d calls, err %v", n, err)
	}
}

func TestExpireTombstones(t *testing.T) {
	s := openTemp(t)
	journal.SetPage(s, 2)
	recs := []objstore.Record{
		live("b", "live-old", 1, "n1", 10),          // live, however old, stays
		tomb("b", "t10", 10, "n1"),                  // expires at 25
		tomb("b", "t20", 20, "n2"),                  // expires at 25
		tomb("b", "t24", 24, "n1"),                  // expires at 25
		tomb("b", "t25", 25, "n1"),                  // stays at 25: before is exclusive
		tomb("c", "t30", 30, "n1"),                  // stays
		tomb("b", "revived", 5, "n1"),               // overwritten below by a live record
		live("b", "revived", 40, "n1", 7),           //
		tomb("b", "redeleted", 5, "n1"),             // overwritten by a newer tombstone
		tomb("b", "redeleted", 50, "n2"),            //
		live("b", "deleted-later", 3, "n1", 1),      //
		tomb("b", "deleted-later", 12, "n1"),        // expires at 25
		tomb("other", "t1", 1, "n3"),                // expires at 25
		live("other", "live-new", 100, "n3", 1<<20), //
	}
	for _, r := range recs {
		merge(t, s, r)
	}
	checkDerived(t, s)
	gone := []string{"b/t10", "b/t20", "b/t24", "b/deleted-later", "other/t1"}

	n, err := s.ExpireTombstones(t.Context(), 25)
	if err != nil || n != len(gone) {
		t.Fatalf("ExpireTombstones(25) = %d, %v; want %d", n, err, len(gone))
	}
	for _, r := range all(t, s) {
		if slices.Contains(gone, r.Key.String()) {
			t.Errorf("%s still stored after expiry", r.Key)
		}
	}
	if got := len(all(t, s)); got != 11-len(gone) {
		t.Errorf("%d records after expiry, want %d", got, 11-len(gone))
	}
	checkCounts(t, s, objstore.Counts{Objects: 3, Bytes: 10 + 7 + 1<<20, Tombstones: 3})
	checkDerived(t, s)

	if n, err := s.ExpireTombstones(t.Context(), 25); err != nil || n != 0 {
		t.Errorf("second ExpireTombstones(25) = %d, %v; want 0", n, err)
	}
	// An expired tombstone that arrives again is stored and indexed again.
	merge(t, s, tomb("b", "t10", 10, "n1"))
	checkDerived(t, s)
	if n, err := s.ExpireTombstones(t.Context(), ^uint64(0)); err != nil || n != 4 {
		t.Errorf("ExpireTombstones(max) = %d, %v; want 4", n, err)
	}
	checkCounts(t, s, objstore.Counts{Objects: 3, Bytes: 10 + 7 + 1<<20})
	checkDerived(t, s)
}

// A tombstone that still owes the origin a delete (write-back, InRemote)
// never expires, however old, and does not hold back the expiry of the
// tombstones after it, even past a page of them; once the record saying
// the delete was done replaces it, that one expires as any other.
func TestExpireKeepsPendingDeletes(t *testing.T) {
	s := openTemp(t)
	journal.SetPage(s, 2)
	for i, id := range []string{"p1", "p2", "p3"} {
		r := tomb("b", id, uint64(1+i), "n1")
		r.InRemote = true
		merge(t, s, r)
	}
	merge(t, s, tomb("b", "t10", 10, "n1"))
	merge(t, s, tomb("b", "t11", 11, "n2"))
	checkDerived(t, s)
	if n, err := s.ExpireTombstones(t.Context(), 25); err != nil || n != 2 {
		t.Fatalf("ExpireTombstones(25) = %d, %v; want the 2 that owe nothing", n, err)
	}
	if got := len(all(t, s)); got != 3 {
		t.Fatalf("%d records after expiry, want the 3 pending deletes", got)
	}
	done := tomb("b", "p2", 20, "n1") // the drain's record: deleted in the origin
	merge(t, s, done)
	if n, err := s.ExpireTombstones(t.Context(), 25); err != nil || n != 1 {
		t.Fatalf("ExpireTombstones(25) after the delete was done = %d, %v; want 1", n, err)
	}
	checkCounts(t, s, objstore.Counts{Tombstones: 2})
	checkDerived(t, s)
}

func TestExpireTombstonesCanceled(t *testing.T) {
	s := openTemp(t)
	merge(t, s, tomb("b", "t", 1, "n1"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if n, err := s.ExpireTombstones(ctx, 10); !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("ExpireTombstones with a canceled context = %d, %v", n, err)
	}
	checkCounts(t, s, objstore.Counts{Tombstones: 1})
}

// TestDigestsConcurrent runs Merges of overlapping keys, tombstone expiry
// and the digest readers at once (run it with -race); afterwards everything
// derived must still match the records.
func TestDigestsConcurrent(t *testing.T) {
	s := openTemp(t)
	journal.SetPage(s, 16)
	const writers, perWriter, keys = 8, 300, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			for i := range perWriter {
				id, hlc := keyName(rng.IntN(keys)), uint64(i*writers+w+1)
				r := live("b", id, hlc, nodeName(w), int64(i))
				if rng.IntN(3) == 0 {
					r = tomb("b", id, hlc, nodeName(w))
				}
				if _, _, err := s.Merge(t.Context(), r); err != nil {
					t.Errorf("merge: %v", err)
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var expired int
	readers.Go(func() { // expiry chases the writers
		for before := uint64(0); ; before += 20 {
			select {
			case <-stop:
				return
			default:
			}
			n, err := s.ExpireTombstones(t.Context(), before)
			if err != nil {
				t.Errorf("expire: %v", err)
				return
			}
			expired += n
		}
	})
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := readAllDigests(t.Context(), s); err != nil {
				t.Errorf("read digests: %v", err)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	t.Logf("%d tombstones expired during the merges", expired)
	checkDerived(t, s)
}

// readAllDigests reads what anti-entropy reads: the group digests, the leaf
// digests of the nonzero groups and the records of their nonzero leaves.
func readAllDigests(ctx context.Context, s *journal.Store) error {
	groups, err := s.GroupDigests(ctx)
	if err != nil {
		return err
	}
	var nonzeroGroups []uint8
	for g, d := range groups {
		if d != 0 {
			nonzeroGroups = append(nonzeroGroups, uint8(g))
		}
	}
	leaves, err := s.LeafDigests(ctx, nonzeroGroups)
	if err != nil {
		return err
	}
	var used []uint16
	for i, d := range leaves {
		if d != 0 {
			g := nonzeroGroups[i/objstore.LeavesPerGroup]
			used = append(used, uint16(g)<<8|uint16(i%objstore.LeavesPerGroup))
		}
	}
	return s.LeafRecords(ctx, used, func(objstore.Record) bool { return true })
}

// TestLongestKey checks that a key of journal.MaxKeyLen bytes goes through
// every index (the tombstone index adds the most to it), and that one byte
// more is rejected.
func TestLongestKey(t *testing.T) {
	s := openTemp(t)
	id := strings.Repeat("x", journal.MaxKeyLen-len("b\x00"))
	merge(t, s, live("b", id, 1, "n1", 1))
	merge(t, s, tomb("b", id, 2, "n1"))
	checkDerived(t, s)
	if n, err := s.ExpireTombstones(t.Context(), 3); err != nil || n != 1 {
		t.Errorf("ExpireTombstones = %d, %v; want 1", n, err)
	}
	if _, _, err := s.Merge(t.Context(), tomb("b", id+"x", 1, "n1")); !errors.Is(err, objstore.ErrInvalidKey) {
		t.Errorf("Merge of a key one byte longer: %v, want ErrInvalidKey", err)
	}
	checkDerived(t, s)
}
