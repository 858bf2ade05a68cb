package node

import (
	"context"
	"io"

	"sphere.software/objstore"
)

// Digests is what anti-entropy needs of the journal beyond Journal: the
// digests of key ranges and the records in them. Implemented by
// internal/journal.
type Digests interface {
	// GroupDigests returns objstore.DigestGroups digests, one per group.
	GroupDigests(ctx context.Context) ([]uint64, error)
	// LeafDigests returns the leaf digests of the given groups, in order:
	// len(groups) × objstore.LeavesPerGroup values.
	LeafDigests(ctx context.Context, groups []uint8) ([]uint64, error)
	// LeafRecords calls fn for every record (tombstones included) in the
	// given leaves until fn returns false.
	LeafRecords(ctx context.Context, leaves []uint16, fn func(objstore.Record) bool) error
	// ExpireTombstones removes tombstones whose version is older than the
	// HLC timestamp before, and returns how many it removed.
	ExpireTombstones(ctx context.Context, before uint64) (int, error)
}

// Cluster is the membership view. Implemented by internal/cluster.
type Cluster interface {
	// Members returns every known member, this node included (Self set).
	Members() []objstore.Member
}

// Peers is the private API of the other nodes. Implemented by
// internal/peerapi.
type Peers interface {
	// Push sends records to m and returns once m has merged them.
	Push(ctx context.Context, m objstore.Member, recs []objstore.Record) error
	// SyncPeer's calls serve the anti-entropy passes (see Sync).
	SyncPeer
	// OpenBody streams m's local body of key at bodyVersion from byte offset
	// on. An error wraps objstore.ErrNotFound when m does not hold it.
	OpenBody(ctx context.Context, m objstore.Member, key objstore.Key, bodyVersion objstore.Version, offset int64) (io.ReadCloser, error)
}
