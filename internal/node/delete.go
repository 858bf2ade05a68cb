package node

import (
	"context"
	"errors"
	"fmt"

	"sphere.software/objstore"
)

// Delete removes an object: from the origin first (so that a later fetch
// cannot bring it back), then it journals a tombstone and drops the local
// body. A key this node has no record of is deleted when the origin holds
// it. Errors wrap objstore.ErrNotFound, objstore.ErrDeleted or
// objstore.ErrNoRemote.
func (n *Node) Delete(ctx context.Context, key objstore.Key) (objstore.Record, error) {
	unlock := n.lockKey(key)
	defer unlock()
	rec, err := n.journal.Get(ctx, key)
	local := err == nil
	switch {
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
	if rec.InRemote || rec.Level.Remote() {
		if err := n.remote.Delete(ctx, key); err != nil {
			return objstore.Record{}, fmt.Errorf("node: delete %s: %w", key, err)
		}
	}
	tomb := objstore.Record{Key: key, Name: rec.Name, Level: rec.Level, Deleted: true, Version: n.newVersion()}
	if _, _, err := n.merge(ctx, tomb); err != nil {
		return objstore.Record{}, fmt.Errorf("node: delete %s: %w", key, err)
	}
	if local {
		n.dropBody(rec)
	}
	n.replicate(tomb)
	return tomb, nil
}
