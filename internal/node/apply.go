package node

import (
	"context"
	"errors"
	"fmt"
	"io"

	"sphere.software/objstore"
)

// Apply merges records that a peer sent (a push or an anti-entropy
// exchange) and acts on the ones that win: a tombstone or a newer version
// drops the local body it replaces, and a level-2 record whose body this
// node lacks is queued for a pull.
func (n *Node) Apply(ctx context.Context, recs []objstore.Record) error {
	for _, rec := range recs {
		if err := validRemoteRecord(rec); err != nil {
			return fmt.Errorf("node: apply: %w", err)
		}
		if err := n.applyOne(ctx, rec); err != nil {
			return err
		}
		n.pullPendingNow(ctx, rec)
	}
	return nil
}

func validRemoteRecord(rec objstore.Record) error {
	switch {
	case rec.Bucket == "" || rec.ID == "":
		return fmt.Errorf("%w: empty bucket or id", objstore.ErrInvalidKey)
	case rec.Level > objstore.MaxLevel:
		return fmt.Errorf("%w: %d", objstore.ErrInvalidLevel, rec.Level)
	case rec.Version.IsZero():
		return fmt.Errorf("record %s has no version", rec.Key)
	case rec.Sum.Size < 0:
		return fmt.Errorf("record %s has a negative size", rec.Key)
	}
	return nil
}

func (n *Node) applyOne(ctx context.Context, rec objstore.Record) error {
	n.clock.Observe(rec.Version.HLC)
	unlock := n.lockKey(rec.Key)
	defer unlock()
	prev, err := n.journal.Get(ctx, rec.Key)
	had := err == nil
	if err != nil && !errors.Is(err, objstore.ErrNotFound) {
		return fmt.Errorf("node: apply %s: %w", rec.Key, err)
	}
	if rec.Deleted && !isPendingDelete(rec) && !had && rec.Version.HLC < n.horizon() {
		// An expired tombstone of a key we never had: keep it gone. One
		// that still owes the origin its delete does not expire anywhere
		// (journal.ExpireTombstones), so it is kept like any other record.
		return nil
	}
	if had && prev.Version.Compare(rec.Version) >= 0 {
		// Ours is the same change or newer (anti-entropy sends whole leaves,
		// mostly records both sides have): skip the write and its fsync.
		return nil
	}
	winner, changed, err := n.merge(ctx, rec)
	if err != nil {
		return fmt.Errorf("node: apply %s: %w", rec.Key, err)
	}
	if !changed {
		return nil
	}
	if had && !prev.Deleted && (winner.Deleted || winner.BodyVersion != prev.BodyVersion) {
		n.dropBody(prev)
	}
	if n.needsBody(winner) {
		n.pulls.add(winner.Key)
	}
	return nil
}

// needsBody reports whether rec is a live level-2 record whose body is not
// on this node's disk.
func (n *Node) needsBody(rec objstore.Record) bool {
	return !rec.Deleted && rec.Level == objstore.LevelFull && n.attached.Load() != nil && !n.blobs.Has(rec.Key, rec.BodyVersion)
}

// GroupDigests serves anti-entropy from the journal.
func (n *Node) GroupDigests(ctx context.Context) ([]uint64, error) {
	return n.journal.GroupDigests(ctx)
}

// LeafDigests serves anti-entropy from the journal.
func (n *Node) LeafDigests(ctx context.Context, groups []uint8) ([]uint64, error) {
	return n.journal.LeafDigests(ctx, groups)
}

// LeafRecords serves anti-entropy from the journal.
func (n *Node) LeafRecords(ctx context.Context, leaves []uint16, fn func(objstore.Record) bool) error {
	return n.journal.LeafRecords(ctx, leaves, fn)
}

// OpenBody opens this node's body of key at bodyVersion for a peer. The
// error wraps objstore.ErrNotFound when the journal's record has another
// body or the body is not here. The body is a BodyReader: it checks every
// block it serves, and its Err reports a block that failed (the body is
// then dropped and reported, and the peer's response must be cut).
func (n *Node) OpenBody(ctx context.Context, key objstore.Key, bodyVersion objstore.Version) (io.ReadSeekCloser, objstore.Record, error) {
	rec, err := n.liveRecord(ctx, key)
	if err != nil {
		return nil, rec, err
	}
	if rec.BodyVersion != bodyVersion {
		return nil, rec, fmt.Errorf("node: body %s@%s: %w", key, bodyVersion, objstore.ErrNotFound)
	}
	f, err := n.blobs.Open(key, bodyVersion, rec.Sum)
	if err != nil {
		return nil, rec, fmt.Errorf("node: body %s: %w", key, err)
	}
	return f, rec, nil
}

// HasBody reports whether this node holds the body of rec.
func (n *Node) HasBody(rec objstore.Record) bool {
	return !rec.Deleted && n.blobs.Has(rec.Key, rec.BodyVersion)
}
