package journal

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

// Lengths of the prefixes of index keys and of digest values.
const (
	leafLen   = 2 // leaf number, big endian
	hlcLen    = 8 // tombstone HLC, big endian
	digestLen = 8 // digest, big endian
)

// empty is the value of every index entry. bbolt keeps the slices given to
// Put until the transaction ends, and nothing ever writes to this one.
var empty = []byte{}

// reindexTx updates what is derived from the record stored under k (whose
// key is key) as it changes from old to cur, in the transaction that
// changes it: the leaf index, the tombstone index and the leaf and group
// digests. A nil old means the record is new; a nil cur means it is removed.
// The counts are the caller's.
func reindexTx(tx *bolt.Tx, k []byte, key objstore.Key, old, cur *objstore.Record) error {
	leaf := objstore.LeafOf(key)
	leaves := tx.Bucket(bucketLeaves)
	switch {
	case old == nil && cur != nil:
		if err := leaves.Put(leafKey(leaf, k), empty); err != nil {
			return err
		}
	case old != nil && cur == nil:
		if err := leaves.Delete(leafKey(leaf, k)); err != nil {
			return err
		}
	}
	if err := retombTx(tx, k, old, cur); err != nil {
		return err
	}
	var h uint64
	if old != nil {
		h ^= objstore.RecordHash(*old)
	}
	if cur != nil {
		h ^= objstore.RecordHash(*cur)
	}
	return xorDigestsTx(tx, leaf, h)
}

// retombTx moves the tombstone index entry of the record under k from old
// to cur: an entry exists exactly for a stored tombstone, under its HLC.
func retombTx(tx *bolt.Tx, k []byte, old, cur *objstore.Record) error {
	oldKey, curKey := tombKey(old, k), tombKey(cur, k)
	if bytes.Equal(oldKey, curKey) {
		return nil
	}
	tombs := tx.Bucket(bucketTombstones)
	if oldKey != nil {
		if err := tombs.Delete(oldKey); err != nil {
			return err
		}
	}
	if curKey != nil {
		return tombs.Put(curKey, empty)
	}
	return nil
}

// leafKey is the leaf index key of the record under k: the leaf, then k.
func leafKey(leaf uint16, k []byte) []byte {
	b := make([]byte, leafLen, leafLen+len(k))
	binary.BigEndian.PutUint16(b, leaf)
	return append(b, k...)
}

// tombKey is the tombstone index key of the record under k: its HLC, then
// k. It is nil when rec is nil or not a tombstone.
func tombKey(rec *objstore.Record, k []byte) []byte {
	if rec == nil || !rec.Deleted {
		return nil
	}
	b := make([]byte, hlcLen, hlcLen+len(k))
	binary.BigEndian.PutUint64(b, rec.Version.HLC)
	return append(b, k...)
}

// xorDigestsTx XORs h into the digest of leaf and into that of its group.
// The leaf's digest is the entry of the leaves bucket whose key is the leaf
// alone, which sorts just before the leaf's index entries and so mostly
// shares a page with the entry that a new record adds.
func xorDigestsTx(tx *bolt.Tx, leaf uint16, h uint64) error {
	if h == 0 {
		return nil
	}
	lk := binary.BigEndian.AppendUint16(make([]byte, 0, leafLen), leaf)
	if err := xorDigest(tx.Bucket(bucketLeaves), lk, h); err != nil {
		return err
	}
	return xorDigest(tx.Bucket(bucketGroupDigests), []byte{objstore.GroupOf(leaf)}, h)
}

// xorDigest XORs h into the digest stored under k in b.
func xorDigest(b *bolt.Bucket, k []byte, h uint64) error {
	d, err := decodeDigest(k, b.Get(k))
	if err != nil {
		return err
	}
	return putDigest(b, k, d^h)
}

// putDigest stores digest d under k in b, or deletes k when d is zero, so
// that a leaf or group that empties leaves no entry behind.
func putDigest(b *bolt.Bucket, k []byte, d uint64) error {
	if d == 0 {
		return b.Delete(k)
	}
	return b.Put(k, binary.BigEndian.AppendUint64(make([]byte, 0, digestLen), d))
}

// decodeDigest decodes a digest stored under k; nil is zero.
func decodeDigest(k, v []byte) (uint64, error) {
	if v == nil {
		return 0, nil
	}
	if len(v) != digestLen {
		return 0, fmt.Errorf("digest %x: %d bytes, want %d", k, len(v), digestLen)
	}
	return binary.BigEndian.Uint64(v), nil
}
