package journal

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

// GroupDigests returns objstore.DigestGroups digests, one per group: the
// XOR of objstore.RecordHash over the records of the group's leaves. It
// reads at most DigestGroups stored values.
func (s *Store) GroupDigests(ctx context.Context) ([]uint64, error) {
	if err := ctxErr(ctx, "group digests"); err != nil {
		return nil, err
	}
	out := make([]uint64, objstore.DigestGroups)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketGroupDigests).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 1 {
				return fmt.Errorf("group digest key %x: want 1 byte", k)
			}
			d, err := decodeDigest(k, v)
			if err != nil {
				return err
			}
			out[k[0]] = d
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal: group digests: %w", err)
	}
	return out, nil
}

// LeafDigests returns the leaf digests of the given groups, in the order
// given: len(groups) × objstore.LeavesPerGroup values, those of groups[i]
// starting at i × LeavesPerGroup. It reads the digest entries of the
// group's leaves in the leaves bucket, skipping their index entries.
func (s *Store) LeafDigests(ctx context.Context, groups []uint8) ([]uint64, error) {
	if err := ctxErr(ctx, "leaf digests"); err != nil {
		return nil, err
	}
	out := make([]uint64, len(groups)*objstore.LeavesPerGroup)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLeaves).Cursor()
		for i, g := range groups {
			if err := groupLeaves(c, g, out[i*objstore.LeavesPerGroup:][:objstore.LeavesPerGroup]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal: leaf digests: %w", err)
	}
	return out, nil
}

// groupLeaves reads the leaf digests of group g into out, whose slots are
// zero. It visits only the leaves that have entries: after each leaf's
// first entry it steps once, and seeks past the leaf if that lands on one
// of the leaf's index entries.
func groupLeaves(c *bolt.Cursor, g uint8, out []uint64) error {
	k, v := c.Seek([]byte{g})
	for k != nil && k[0] == g {
		if len(k) < leafLen {
			return fmt.Errorf("malformed leaf index key %x", k)
		}
		leaf := k[1]
		if len(k) == leafLen {
			d, err := decodeDigest(k, v)
			if err != nil {
				return err
			}
			out[leaf] = d
		}
		if leaf == objstore.LeavesPerGroup-1 {
			return nil
		}
		if k, v = c.Next(); len(k) > leafLen && k[0] == g && k[1] == leaf {
			k, v = c.Seek([]byte{g, leaf + 1})
		}
	}
	return nil
}
