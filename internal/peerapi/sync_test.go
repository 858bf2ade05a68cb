package peerapi

import (
	"context"
	"maps"
	"math/rand/v2"
	"reflect"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
)

func tombstone(key objstore.Key, hlc uint64, node string) objstore.Record {
	v := objstore.Version{HLC: hlc, Node: node}
	return objstore.Record{Key: key, Version: v, BodyVersion: v, Deleted: true}
}

// mergeAll is what two fakes must both hold after a sync: the merge of both.
func mergeAll(a, b map[objstore.Key]objstore.Record) map[objstore.Key]objstore.Record {
	want := maps.Clone(a)
	for k, rec := range b {
		if old, ok := want[k]; ok {
			rec = objstore.Merge(old, rec)
		}
		want[k] = rec
	}
	return want
}

// expectedStats is what one sync pass from a with b must report, but bytes.
func expectedStats(a, b *fakeLocal) objstore.SyncStats {
	da, db := a.leafDigests(), b.leafDigests()
	var st objstore.SyncStats
	groups := map[uint8]bool{}
	leaves := map[uint16]bool{}
	for l := range da {
		if da[l] != db[l] {
			leaves[uint16(l)] = true
			groups[objstore.GroupOf(uint16(l))] = true
		}
	}
	st.GroupsDiffer, st.LeavesDiffer = len(groups), len(leaves)
	for k := range a.snapshot() {
		if leaves[objstore.LeafOf(k)] {
			st.Sent++
		}
	}
	for k := range b.snapshot() {
		if leaves[objstore.LeafOf(k)] {
			st.Received++
		}
	}
	return st
}

// divergedPair returns two fakes sharing n records and differing in a few:
// inserts, overwrites, tombstones on either side and conflicting changes.
func divergedPair(t *testing.T, n int) (a, b *fakeLocal) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b = newFake(t), newFake(t)
	keys := randomKeys(rng, n+4)
	for _, k := range keys[:n] {
		rec := testRecord(k, 100, "n0")
		a.put(rec)
		b.put(rec)
	}
	for _, e := range []struct {
		side *fakeLocal
		rec  objstore.Record
	}{
		{a, testRecord(keys[n], 200, "na")}, // new on a
		{a, testRecord(keys[n+1], 200, "na")},
		{b, testRecord(keys[n+2], 200, "nb")}, // new on b
		{b, tombstone(keys[n+3], 200, "nb")},  // a tombstone only b knows
		{a, testRecord(keys[0], 200, "na")},   // overwritten on a
		{b, testRecord(keys[1], 200, "nb")},   // overwritten on b
		{a, tombstone(keys[2], 200, "na")},    // deleted on a
		{b, tombstone(keys[3], 200, "nb")},    // deleted on b
		{a, testRecord(keys[4], 300, "na")},   // both changed, a newer
		{b, tombstone(keys[4], 250, "nb")},
		{a, tombstone(keys[5], 250, "na")}, // both changed, b newer
		{b, testRecord(keys[5], 300, "nb")},
		{b, testRecord(keys[6], 50, "nb")}, // b holds an older version
	} {
		e.side.put(e.rec)
	}
	return a, b
}

func TestSyncConverges(t *testing.T) {
	ctx := context.Background()
	a, b := divergedPair(t, 10000)
	want := mergeAll(a.snapshot(), b.snapshot())
	wantStats := expectedStats(a, b)
	m, wire := serve(t, b)

	st, err := node.Sync(ctx, a, newClient(), m)
	if err != nil {
		t.Fatal(err)
	}
	if got := st; got.GroupsDiffer != wantStats.GroupsDiffer || got.LeavesDiffer != wantStats.LeavesDiffer ||
		got.Sent != wantStats.Sent || got.Received != wantStats.Received {
		t.Errorf("stats = %+v, want %+v", got, wantStats)
	}
	if st.BytesOut != wire.in.Load() || st.BytesIn != wire.out.Load() {
		t.Errorf("stats bytes out %d in %d; the server read %d and wrote %d", st.BytesOut, st.BytesIn, wire.in.Load(), wire.out.Load())
	}
	if n := wire.requests.Load(); n != 3 {
		t.Errorf("%d requests, want 3 (group digests, leaf digests, one leaves exchange)", n)
	}
	if !reflect.DeepEqual(a.snapshot(), want) || !reflect.DeepEqual(b.snapshot(), want) {
		t.Fatal("the two sides did not converge to the merge of both")
	}
	if !reflect.DeepEqual(a.leafDigests(), b.leafDigests()) {
		t.Fatal("leaf digests differ after the sync")
	}
	t.Logf("%+v", st)
	assertSyncIsCheap(t, a, b, m, wire)
}

// assertSyncIsCheap checks that syncing equal states costs one request of
// 2 KiB of group digests, in both directions.
func assertSyncIsCheap(t *testing.T, a, b *fakeLocal, m objstore.Member, wire *wire) {
	t.Helper()
	wire.reset()
	st, err := node.Sync(context.Background(), a, newClient(), m)
	if err != nil {
		t.Fatal(err)
	}
	if want := (objstore.SyncStats{BytesIn: 8 * objstore.DigestGroups}); st != want || wire.requests.Load() != 1 {
		t.Errorf("equal states: stats %+v in %d requests, want %+v in 1", st, wire.requests.Load(), want)
	}
	mb, wireA := serve(t, a)
	st, err = node.Sync(context.Background(), b, newClient(), mb)
	if err != nil {
		t.Fatal(err)
	}
	if st.GroupsDiffer != 0 || wireA.requests.Load() != 1 {
		t.Errorf("reverse direction: stats %+v in %d requests, want 1", st, wireA.requests.Load())
	}
}

// TestSyncNewNode syncs an empty node with a full one through many leaves
// requests, split both by leaf count and by size.
func TestSyncNewNode(t *testing.T) {
	for _, c := range []struct {
		name            string
		leaves, bytes   int
		minRequests     int64
		fromFull, toNew bool
	}{
		{name: "new node asks", leaves: 1024, bytes: maxExchangeBytes, minRequests: 2 + 5},
		{name: "full node asks", leaves: 1000, bytes: 20 << 10, minRequests: 2 + 10, fromFull: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			full, empty := newFake(t), newFake(t)
			for i, k := range randomKeys(rng, 5000) {
				full.put(testRecord(k, uint64(100+i), "n0"))
			}
			client, server := empty, full
			if c.fromFull {
				client, server = full, empty
			}
			m, wire := serve(t, server)
			cl := newClient()
			cl.leavesPerRequest, cl.exchangeBytes = c.leaves, c.bytes
			wantStats := expectedStats(client, server)
			st, err := node.Sync(context.Background(), client, cl, m)
			if err != nil {
				t.Fatal(err)
			}
			if st.LeavesDiffer != wantStats.LeavesDiffer || st.Sent != wantStats.Sent || st.Received != wantStats.Received {
				t.Errorf("stats = %+v, want %+v", st, wantStats)
			}
			if n := wire.requests.Load(); n < c.minRequests {
				t.Errorf("%d requests, want at least %d", n, c.minRequests)
			}
			if !reflect.DeepEqual(full.snapshot(), empty.snapshot()) {
				t.Fatal("not converged")
			}
		})
	}
}
