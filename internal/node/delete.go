package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sphere.software/objstore"
)

// Delete removes an object: from the origin first (so that a later fetch
// cannot bring it back), then it journals a tombstone and drops the local
// body. A key this node has no record of is deleted when the origin holds
// it. Errors wrap objstore.ErrNotFound, objstore.ErrDeleted or
// objstore.ErrNoRemote.
func (n *Node) Delete(ctx context.Context, key objstore.Key) (objstore.Record, error) {
	return n.delete(ctx, key, false)
}

// DeleteBack is Delete in write-back mode: it answers once the tombstone
// is journaled here, without the origin, and the outbox deletes the
// object from the origin later (isPendingDelete). Until then the tombstone
// hides the origin's copy from reads and listings on every node. A key
// this node has no record of gets such a tombstone too, as nothing says
// whether the origin holds it. docs/DESIGN.md, "Write-back".
func (n *Node) DeleteBack(ctx context.Context, key objstore.Key) (objstore.Record, error) {
	return n.delete(ctx, key, true)
}

func (n *Node) delete(ctx context.Context, key objstore.Key, back bool) (objstore.Record, error) {
	unlock := n.lockKey(key)
	defer unlock()
	rec, err := n.journal.Get(ctx, key)
	local := err == nil
	switch {
	case errors.Is(err, objstore.ErrNotFound) && back:
		rec = objstore.Record{Key: key, Level: objstore.LevelS3, InRemote: true}
	case errors.Is(err, objstore.ErrNotFound):
		if rec, err = n.remote.Stat(ctx, key); err != nil {
			return objstore.Record{}, fmt.Errorf("node: delete %s: %w", key, err)
		}
		rec.InRemote = true
	case err != nil:
		return objstore.Record{}, fmt.Errorf("node: delete %s: %w", key, err)
	case rec.Deleted:
		return rec, fmt.Errorf("node: delete %s: %w", key, objstore.ErrDeleted)
	}
	owed := rec.InRemote || rec.Level.Remote()
	switch {
	case owed && back:
		// The tombstone owes the origin its delete: the outbox does it.
	case owed:
		if err := n.remote.Delete(ctx, key); err != nil {
			return objstore.Record{}, fmt.Errorf("node: delete %s: %w", key, err)
		}
	default:
		n.deleteShadowed(ctx, rec)
	}
	tomb := objstore.Record{Key: key, Name: rec.Name, Level: rec.Level, Deleted: true, InRemote: owed && back, Version: n.newVersion()}
	if _, _, err := n.merge(ctx, tomb); err != nil {
		return objstore.Record{}, fmt.Errorf("node: delete %s: %w", key, err)
	}
	if local {
		n.dropBody(rec)
	}
	n.replicate(tomb)
	if tomb.InRemote {
		n.pending.wrote(time.Now())
	}
	return tomb, nil
}

// deleteShadowed deletes an older copy of rec's key from the origin, one
// that rec, a record never uploaded, only hides: an object of the origin
// bucket overwritten at level 0. A tombstone alone would hide it only until
// the tombstone expires; then reads through to the origin would bring the
// old object back. A copy newer than rec (another node's upload) is left
// alone. The origin being unreachable does not fail a level-0 delete: the
// copy stays, and a warning says so.
func (n *Node) deleteShadowed(ctx context.Context, rec objstore.Record) {
	old, err := n.remote.Stat(ctx, rec.Key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return
	case err != nil:
		n.log.WarnContext(ctx, "delete: could not check the origin for an older copy; if there is one, it shows again once the tombstone expires",
			"key", rec.Key, "err", err)
		return
	case old.Version.Compare(rec.Version) >= 0:
		return
	}
	if err := n.remote.Delete(ctx, rec.Key); err != nil {
		n.log.WarnContext(ctx, "delete: could not delete the older copy in the origin; it shows again once the tombstone expires",
			"key", rec.Key, "err", err)
	}
}
