package journal

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

// bucketIntents holds the uploads to the origin that have started and whose
// record is not yet committed: HLC (8 bytes, big endian) + encoded key → the
// version's node ID. Merge clears the intent of the record it stores in the
// same transaction, so an intent left in the file after a crash names an
// upload whose record may be missing (see Node's orphan reconciliation).
var bucketIntents = []byte("intents")

// intentKey returns the bbolt key of the intent (key, v).
func intentKey(key objstore.Key, v objstore.Version) ([]byte, error) {
	k, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	b := make([]byte, hlcLen, hlcLen+len(k))
	binary.BigEndian.PutUint64(b, v.HLC)
	return append(b, k...), nil
}

// PutIntent records, durably, that version v of key is about to be uploaded
// to the origin. It costs one write transaction (and fsync), shared with
// concurrent writers like Merge's.
func (s *Store) PutIntent(ctx context.Context, key objstore.Key, v objstore.Version) error {
	if err := ctxErr(ctx, "put intent"); err != nil {
		return err
	}
	k, err := intentKey(key, v)
	if err != nil {
		return err
	}
	err = s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIntents).Put(k, []byte(v.Node))
	})
	if err != nil {
		return fmt.Errorf("journal: put intent %s: %w", key, err)
	}
	return nil
}

// DeleteIntent removes the intent (key, v); a missing one is not an error.
func (s *Store) DeleteIntent(ctx context.Context, key objstore.Key, v objstore.Version) error {
	if err := ctxErr(ctx, "delete intent"); err != nil {
		return err
	}
	k, err := intentKey(key, v)
	if err != nil {
		return err
	}
	err = s.update(func(tx *bolt.Tx) error { return clearIntentTx(tx, k, v) })
	if err != nil {
		return fmt.Errorf("journal: delete intent %s: %w", key, err)
	}
	return nil
}

// clearIntentTx deletes the intent stored under k when it is of version v.
func clearIntentTx(tx *bolt.Tx, k []byte, v objstore.Version) error {
	b := tx.Bucket(bucketIntents)
	if node := b.Get(k); node == nil || string(node) != v.Node {
		return nil
	}
	return b.Delete(k)
}

// Intents calls fn with every intent left, oldest version first, until fn
// returns false. The bucket holds only the uploads in flight and those a
// crash cut, so it is small; fn runs inside a read transaction and must not
// write to the store.
func (s *Store) Intents(ctx context.Context, fn func(key objstore.Key, v objstore.Version) bool) error {
	if err := ctxErr(ctx, "intents"); err != nil {
		return err
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketIntents).Cursor()
		for k, node := c.First(); k != nil; k, node = c.Next() {
			if len(k) <= hlcLen {
				return fmt.Errorf("malformed intent %q", k)
			}
			key, err := decodeKey(k[hlcLen:])
			if err != nil {
				return err
			}
			if !fn(key, objstore.Version{HLC: binary.BigEndian.Uint64(k[:hlcLen]), Node: string(node)}) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: intents: %w", err)
	}
	return nil
}
