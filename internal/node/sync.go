package node

import (
	"context"
	"fmt"
	"slices"

	"sphere.software/objstore"
)

// Anti-entropy: objstore.DigestGroups × objstore.LeavesPerGroup leaves
// split the keyspace (objstore.LeafOf). A pass with a peer fetches its
// group digests and compares them with ours; when all are equal the pass
// costs that one call. Otherwise it fetches the leaf digests of the groups
// that differ, and for the leaves that differ it sends all of our records
// of those leaves and gets the peer's back (ExchangeLeaves on the peer: it
// snapshots its records of those leaves, merges ours and answers with the
// snapshot), which we merge. After one pass both sides hold the merge of
// both in every leaf that differed. Records both sides already had are
// sent too, and are harmless: merging is idempotent.

// leavesPerExchange is the most leaves one ExchangeLeaves call names, so
// that a pass holds the records of at most 1/64 of the keyspace at once,
// even with a peer that holds everything and a node that holds nothing.
const leavesPerExchange = 1024

// Replica is one side of an anti-entropy pass: records and the digests of
// their leaves. *Node implements it; bench/cmd/synccost runs passes
// between bare journals with it.
type Replica interface {
	// GroupDigests returns objstore.DigestGroups digests, one per group.
	GroupDigests(ctx context.Context) ([]uint64, error)
	// LeafDigests returns len(groups) × objstore.LeavesPerGroup leaf
	// digests, the groups' leaves in order.
	LeafDigests(ctx context.Context, groups []uint8) ([]uint64, error)
	// LeafRecords calls fn for every record (tombstones included) in the
	// given leaves until fn returns false.
	LeafRecords(ctx context.Context, leaves []uint16, fn func(objstore.Record) bool) error
	// Apply merges records from a peer.
	Apply(ctx context.Context, recs []objstore.Record) error
}

// SyncPeer is what an anti-entropy pass calls on the other node: its
// Replica's digests and ExchangeLeaves, and the bytes each call moved.
// Implemented by internal/peerapi's Client.
type SyncPeer interface {
	// GroupDigests returns m's objstore.DigestGroups group digests.
	GroupDigests(ctx context.Context, m objstore.Member) ([]uint64, objstore.Traffic, error)
	// LeafDigests returns m's leaf digests of groups (sorted, distinct):
	// len(groups) × objstore.LeavesPerGroup values.
	LeafDigests(ctx context.Context, m objstore.Member, groups []uint8) ([]uint64, objstore.Traffic, error)
	// ExchangeLeaves runs ExchangeLeaves on m: it sends ours, this node's
	// records of leaves (sorted, distinct), and returns m's records of
	// those leaves as they were before it merged ours.
	ExchangeLeaves(ctx context.Context, m objstore.Member, leaves []uint16, ours []objstore.Record) ([]objstore.Record, objstore.Traffic, error)
}

// Sync runs one anti-entropy pass between local and m, which peer reaches.
// Both sides merge what they lack.
func Sync(ctx context.Context, local Replica, peer SyncPeer, m objstore.Member) (objstore.SyncStats, error) {
	var st objstore.SyncStats
	groups, err := differingGroups(ctx, local, peer, m, &st)
	if err != nil || len(groups) == 0 {
		return st, err
	}
	leaves, err := differingLeaves(ctx, local, peer, m, groups, &st)
	if err != nil {
		return st, err
	}
	for chunk := range slices.Chunk(leaves, leavesPerExchange) {
		if err := exchange(ctx, local, peer, m, chunk, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// ExchangeLeaves is the peer's side of an exchange: it snapshots local's
// records of leaves, merges theirs, and returns the snapshot.
func ExchangeLeaves(ctx context.Context, local Replica, leaves []uint16, theirs []objstore.Record) ([]objstore.Record, error) {
	var ours []objstore.Record
	err := local.LeafRecords(ctx, leaves, func(rec objstore.Record) bool {
		ours = append(ours, rec)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("node: exchange leaves: %w", err)
	}
	if len(theirs) > 0 {
		if err := local.Apply(ctx, theirs); err != nil {
			return nil, fmt.Errorf("node: exchange leaves: apply %d records: %w", len(theirs), err)
		}
	}
	return ours, nil
}

// ExchangeLeaves answers a peer's exchange (see the package function).
func (n *Node) ExchangeLeaves(ctx context.Context, leaves []uint16, theirs []objstore.Record) ([]objstore.Record, error) {
	return ExchangeLeaves(ctx, n, leaves, theirs)
}

// differingGroups returns the groups whose digests differ between m and local.
func differingGroups(ctx context.Context, local Replica, peer SyncPeer, m objstore.Member, st *objstore.SyncStats) ([]uint8, error) {
	theirs, tr, err := peer.GroupDigests(ctx, m)
	count(st, tr)
	if err != nil {
		return nil, err
	}
	ours, err := local.GroupDigests(ctx)
	if err != nil {
		return nil, fmt.Errorf("node: sync with %s: %w", m.Addr, err)
	}
	if len(ours) != objstore.DigestGroups || len(theirs) != objstore.DigestGroups {
		return nil, fmt.Errorf("node: sync with %s: %d local and %d remote group digests, want %d", m.Addr, len(ours), len(theirs), objstore.DigestGroups)
	}
	var groups []uint8
	for g := range objstore.DigestGroups {
		if theirs[g] != ours[g] {
			groups = append(groups, uint8(g))
		}
	}
	st.GroupsDiffer = len(groups)
	return groups, nil
}

// differingLeaves returns the leaves of groups whose digests differ.
func differingLeaves(ctx context.Context, local Replica, peer SyncPeer, m objstore.Member, groups []uint8, st *objstore.SyncStats) ([]uint16, error) {
	theirs, tr, err := peer.LeafDigests(ctx, m, groups)
	count(st, tr)
	if err != nil {
		return nil, err
	}
	ours, err := local.LeafDigests(ctx, groups)
	if err != nil {
		return nil, fmt.Errorf("node: sync with %s: %w", m.Addr, err)
	}
	n := len(groups) * objstore.LeavesPerGroup
	if len(ours) != n || len(theirs) != n {
		return nil, fmt.Errorf("node: sync with %s: %d local and %d remote leaf digests for %d groups, want %d", m.Addr, len(ours), len(theirs), len(groups), n)
	}
	var leaves []uint16
	for i := range n {
		if theirs[i] != ours[i] {
			g, l := groups[i/objstore.LeavesPerGroup], i%objstore.LeavesPerGroup
			leaves = append(leaves, uint16(g)<<8|uint16(l))
		}
	}
	st.LeavesDiffer = len(leaves)
	return leaves, nil
}

// exchange sends local's records of leaves to m and merges m's.
func exchange(ctx context.Context, local Replica, peer SyncPeer, m objstore.Member, leaves []uint16, st *objstore.SyncStats) error {
	var ours []objstore.Record
	err := local.LeafRecords(ctx, leaves, func(rec objstore.Record) bool {
		ours = append(ours, rec)
		return true
	})
	if err != nil {
		return fmt.Errorf("node: sync with %s: %w", m.Addr, err)
	}
	theirs, tr, err := peer.ExchangeLeaves(ctx, m, leaves, ours)
	count(st, tr)
	if err != nil {
		return err
	}
	st.Sent += len(ours)
	st.Received += len(theirs)
	if len(theirs) == 0 {
		return nil
	}
	if err := local.Apply(ctx, theirs); err != nil {
		return fmt.Errorf("node: sync with %s: apply %d records: %w", m.Addr, len(theirs), err)
	}
	return nil
}

func count(st *objstore.SyncStats, tr objstore.Traffic) {
	st.BytesOut += tr.Out
	st.BytesIn += tr.In
}
