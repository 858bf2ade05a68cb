package journal

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

// bucketBodies holds small bodies whose files are not yet known to be
// durable: HLC of the body version (8 bytes, big endian) + length of its
// node ID (1 byte) + node ID + encoded key → the body's bytes.
// MergeBody puts one there in the transaction of its record, so that a
// small write is durable after one group commit of the journal instead of
// an fsync of its file and directory besides; once a sync of the file
// system has made the files durable, DropBodies clears them. After a crash,
// Bodies gives back what is left, for the node to write again.
var bucketBodies = []byte("bodies")

// bodyKey returns the bbolt key of a body in bucketBodies.
func bodyKey(key objstore.Key, v objstore.Version) ([]byte, error) {
	k, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	if len(v.Node) > 255 {
		return nil, fmt.Errorf("journal: body of %s: node ID of %d bytes", key, len(v.Node))
	}
	b := make([]byte, hlcLen, hlcLen+1+len(v.Node)+len(k))
	binary.BigEndian.PutUint64(b, v.HLC)
	b = append(b, byte(len(v.Node)))
	b = append(b, v.Node...)
	return append(b, k...), nil
}

// decodeBodyKey is bodyKey's inverse.
func decodeBodyKey(b []byte) (objstore.BodyRef, error) {
	if len(b) < hlcLen+1 || len(b) < hlcLen+1+int(b[hlcLen]) {
		return objstore.BodyRef{}, fmt.Errorf("malformed body key %q", b)
	}
	n := int(b[hlcLen])
	key, err := decodeKey(b[hlcLen+1+n:])
	if err != nil {
		return objstore.BodyRef{}, err
	}
	return objstore.BodyRef{Key: key, Version: objstore.Version{HLC: binary.BigEndian.Uint64(b), Node: string(b[hlcLen+1 : hlcLen+1+n])}}, nil
}

// MergeBody is Merge that also keeps body, the bytes of the body of rec
// (rec.BodyVersion), in the same transaction: when it returns, the record
// and its body are durable together, whatever became of the body's file.
func (s *Store) MergeBody(ctx context.Context, rec objstore.Record, body []byte) (objstore.Record, bool, error) {
	bk, err := bodyKey(rec.Key, rec.BodyVersion)
	if err != nil {
		return objstore.Record{}, false, err
	}
	return s.merge(ctx, rec, func(tx *bolt.Tx) error { return tx.Bucket(bucketBodies).Put(bk, body) })
}

// DropBodies removes bodies kept by MergeBody, once their files are
// durable; a missing one is not an error.
func (s *Store) DropBodies(ctx context.Context, refs []objstore.BodyRef) error {
	if err := ctxErr(ctx, "drop bodies"); err != nil {
		return err
	}
	keys := make([][]byte, 0, len(refs))
	for _, r := range refs {
		k, err := bodyKey(r.Key, r.Version)
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBodies)
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: drop bodies: %w", err)
	}
	return nil
}

// Bodies calls fn with every body MergeBody kept and DropBodies has not
// removed, until fn returns false. fn runs inside a read transaction: body
// is valid only until fn returns, and fn must not write to the store.
func (s *Store) Bodies(ctx context.Context, fn func(ref objstore.BodyRef, body []byte) bool) error {
	if err := ctxErr(ctx, "bodies"); err != nil {
		return err
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketBodies).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			ref, err := decodeBodyKey(k)
			if err != nil {
				return err
			}
			if !fn(ref, v) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: bodies: %w", err)
	}
	return nil
}
