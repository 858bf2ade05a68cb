package journal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

// rebuild accumulates, over one pass of the records, what a migration
// derives from them and writes last: the digests and the counts.
type rebuild struct {
	leaves [objstore.DigestLeaves]uint64
	counts objstore.Counts
}

// migrate brings a file of an older format to fileFormat. It first
// rewrites every record value in the current value format, a page per
// write transaction; a format-1 file then gets its derived buckets built
// (migrateV1). The last transaction writes the new format: until it
// commits the file keeps its old format, and an interrupted migration
// starts over on the next Open, skipping the values already rewritten
// (the decoder reads both value formats, so a half-rewritten file reads
// correctly).
func (s *Store) migrate(from byte) error {
	start := time.Now()
	s.log.Info("migrating journal", "from_format", from, "to_format", fileFormat)
	n, err := s.rewriteValues()
	if err != nil {
		return fmt.Errorf("migrate: rewrite values: %w", err)
	}
	if from == fileFormatV1 {
		err = s.migrateV1()
	} else {
		err = s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaFormat, []byte{fileFormat}) })
	}
	if err != nil {
		return err
	}
	s.log.Info("journal migrated", "format", fileFormat, "records", n, "took", time.Since(start))
	return nil
}

// rewriteValues re-encodes every record value that is not in the current
// value format and returns how many records it read.
func (s *Store) rewriteValues() (int, error) {
	var (
		after []byte
		total int
	)
	for {
		var n int
		err := s.db.Update(func(tx *bolt.Tx) error {
			var err error
			n, after, err = rewritePageTx(tx, after, s.page)
			return err
		})
		if err != nil {
			return 0, err
		}
		total += n
		if n < s.page {
			return total, nil
		}
	}
}

// rewritePageTx re-encodes up to n record values after the key after (from
// the first when nil). It returns how many it read and a copy of the last
// key. It writes only once the cursor is done, since a bbolt cursor must
// not walk a bucket that changes under it.
func rewritePageTx(tx *bolt.Tx, after []byte, n int) (int, []byte, error) {
	records := tx.Bucket(bucketRecords)
	var (
		keys, values [][]byte
		last         []byte
		read         int
	)
	c := records.Cursor()
	for k, v := seekAfter(c, after); k != nil && read < n; k, v = c.Next() {
		rec, err := decodeEntry(k, v)
		if err != nil {
			return 0, nil, err
		}
		if enc := encodeRecord(rec); !bytes.Equal(enc, v) {
			keys, values = append(keys, bytes.Clone(k)), append(values, enc)
		}
		last = k
		read++
	}
	last = bytes.Clone(last)
	for i, k := range keys {
		if err := records.Put(k, values[i]); err != nil {
			return 0, nil, err
		}
	}
	return read, last, nil
}

// migrateV1 builds what format 2 added to format 1: it rebuilds the leaf
// and tombstone indexes from the records a page per write transaction,
// then writes the digests, the recomputed counts and the new format in one
// last transaction. The first transaction empties whatever an earlier
// attempt left in the derived buckets.
func (s *Store) migrateV1() error {
	if err := s.db.Update(clearDerivedTx); err != nil {
		return fmt.Errorf("migrate: clear indexes: %w", err)
	}
	r := new(rebuild)
	var after []byte
	for {
		var n int
		err := s.db.Update(func(tx *bolt.Tx) error {
			var err error
			n, after, err = r.indexPageTx(tx, after, s.page)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: index records: %w", err)
		}
		if n < s.page {
			break
		}
	}
	if err := s.db.Update(r.finishTx); err != nil {
		return fmt.Errorf("migrate: write digests: %w", err)
	}
	return nil
}

// clearDerivedTx empties the buckets derived from the records.
func clearDerivedTx(tx *bolt.Tx) error {
	for _, name := range derivedBuckets {
		if err := tx.DeleteBucket(name); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	return nil
}

// indexPageTx adds the index entries of up to n records after the key after
// (from the first when nil) and folds them into r. It returns how many
// records it read and a copy of the last key.
func (r *rebuild) indexPageTx(tx *bolt.Tx, after []byte, n int) (int, []byte, error) {
	c := tx.Bucket(bucketRecords).Cursor()
	leaves := tx.Bucket(bucketLeaves)
	var last []byte
	read := 0
	for k, v := seekAfter(c, after); k != nil && read < n; k, v = c.Next() {
		rec, err := decodeEntry(k, v)
		if err != nil {
			return 0, nil, err
		}
		leaf := objstore.LeafOf(rec.Key)
		if err := leaves.Put(leafKey(leaf, k), empty); err != nil {
			return 0, nil, err
		}
		if err := retombTx(tx, k, nil, &rec); err != nil {
			return 0, nil, err
		}
		r.leaves[leaf] ^= objstore.RecordHash(rec)
		d := contribution(rec)
		r.counts.Objects += d.Objects
		r.counts.Bytes += d.Bytes
		r.counts.Tombstones += d.Tombstones
		read++
		last = k
	}
	return read, bytes.Clone(last), nil
}

// finishTx writes the leaf and group digests, the counts and the new format.
func (r *rebuild) finishTx(tx *bolt.Tx) error {
	leaves, groupDigests := tx.Bucket(bucketLeaves), tx.Bucket(bucketGroupDigests)
	var groups [objstore.DigestGroups]uint64
	for leaf, d := range r.leaves {
		if d == 0 {
			continue
		}
		groups[objstore.GroupOf(uint16(leaf))] ^= d
		if err := putDigest(leaves, binary.BigEndian.AppendUint16(nil, uint16(leaf)), d); err != nil {
			return err
		}
	}
	for g, d := range groups {
		if err := putDigest(groupDigests, []byte{byte(g)}, d); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if err := meta.Put(metaCounts, encodeCounts(r.counts)); err != nil {
		return err
	}
	return meta.Put(metaFormat, []byte{fileFormat})
}
