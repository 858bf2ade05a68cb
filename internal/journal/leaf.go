package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

// LeafRecords calls fn for every record, tombstones included, whose
// objstore.LeafOf is one of leaves, until fn returns false. It visits the
// leaves in ascending order whatever the order given, each once, and within
// a leaf the records in key order. Like Range it reads a page of records per
// read transaction through the leaf index and calls fn outside of them.
func (s *Store) LeafRecords(ctx context.Context, leaves []uint16, fn func(objstore.Record) bool) error {
	leaves = slices.Clone(leaves)
	slices.Sort(leaves)
	leaves = slices.Compact(leaves)
	var after []byte
	for len(leaves) > 0 {
		if err := ctxErr(ctx, "leaf records"); err != nil {
			return err
		}
		page, last, err := s.leafPage(leaves, after, s.page)
		if err != nil {
			return fmt.Errorf("journal: leaf records: %w", err)
		}
		if more, err := s.emit(ctx, "leaf records", page, fn); !more || err != nil {
			return err
		}
		// The page ended in the leaf of last: resume in that leaf, after it.
		after = last
		i, _ := slices.BinarySearch(leaves, binary.BigEndian.Uint16(last))
		leaves = leaves[i:]
	}
	return nil
}

// leafPage reads up to n records of the sorted leaves through the leaf
// index, starting after the index key after in the first leaf (at its start
// when after is nil). It returns them and a copy of the last index key.
func (s *Store) leafPage(leaves []uint16, after []byte, n int) ([]objstore.Record, []byte, error) {
	recs := make([]objstore.Record, 0, min(n, 64))
	var last []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLeaves).Cursor()
		records := tx.Bucket(bucketRecords)
		for i, leaf := range leaves {
			prefix := binary.BigEndian.AppendUint16(nil, leaf)
			k, _ := c.Seek(prefix)
			if i == 0 && after != nil {
				k, _ = seekAfter(c, after)
			}
			for ; k != nil && bytes.HasPrefix(k, prefix) && len(recs) < n; k, _ = c.Next() {
				if len(k) == leafLen {
					continue // the leaf's digest
				}
				rec, err := indexedRecord(records, k[leafLen:])
				if err != nil {
					return err
				}
				recs = append(recs, rec)
				last = k
			}
			if len(recs) == n {
				break
			}
		}
		last = bytes.Clone(last)
		return nil
	})
	return recs, last, err
}

// indexedRecord reads the record under k, which an index names.
func indexedRecord(records *bolt.Bucket, k []byte) (objstore.Record, error) {
	v := records.Get(k)
	if v == nil {
		return objstore.Record{}, fmt.Errorf("index names key %q, which has no record", k)
	}
	return decodeEntry(k, v)
}
