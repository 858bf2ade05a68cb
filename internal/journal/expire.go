package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

// ExpireTombstones removes the tombstones whose Version.HLC is less than
// before, with their index entries and their share of the digests and
// counts, and returns how many it removed. It finds them through the
// tombstone index, oldest first, and removes at most a page of them per
// write transaction, so that Merges proceed between the transactions. On an
// error it returns how many it had removed before it.
func (s *Store) ExpireTombstones(ctx context.Context, before uint64) (int, error) {
	total := 0
	for {
		if err := ctxErr(ctx, "expire tombstones"); err != nil {
			return total, err
		}
		var n int
		// DB.Batch may run this function more than once; each run counts
		// afresh what it removed in its own transaction.
		err := s.update(func(tx *bolt.Tx) error {
			var err error
			n, err = expireTx(tx, before, s.page)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("journal: expire tombstones: %w", err)
		}
		total += n
		if n < s.page {
			if total > 0 {
				s.log.Debug("tombstones expired", "count", total, "before", before)
			}
			return total, nil
		}
	}
}

// expireTx removes up to n tombstones older than before and returns how
// many it removed. A tombstone that still owes the origin a delete (a
// write-back delete, InRemote set: the origin may hold the object) is
// kept until the record that says it was deleted there replaces it.
func expireTx(tx *bolt.Tx, before uint64, n int) (int, error) {
	records := tx.Bucket(bucketRecords)
	var expired [][]byte
	c := tx.Bucket(bucketTombstones).Cursor()
	for k, _ := c.First(); k != nil && len(expired) < n; k, _ = c.Next() {
		if len(k) <= hlcLen {
			return 0, fmt.Errorf("malformed tombstone index key %x", k)
		}
		if binary.BigEndian.Uint64(k) >= before {
			break
		}
		rec, err := indexedRecord(records, k[hlcLen:])
		if err != nil {
			return 0, err
		}
		if !rec.Deleted || rec.Version.HLC != binary.BigEndian.Uint64(k) {
			return 0, fmt.Errorf("tombstone index entry %x names %s, a record of version %s deleted=%v",
				k, rec.Key, rec.Version, rec.Deleted)
		}
		if rec.InRemote {
			continue
		}
		expired = append(expired, bytes.Clone(k)) // removing them moves the cursor's memory
	}
	for _, tk := range expired {
		k := tk[hlcLen:]
		rec, err := indexedRecord(records, k)
		if err != nil {
			return 0, err
		}
		if err := records.Delete(k); err != nil {
			return 0, err
		}
		if err := reindexTx(tx, k, rec.Key, &rec, nil); err != nil {
			return 0, err
		}
	}
	err := addCounts(tx.Bucket(bucketMeta), objstore.Counts{Tombstones: -int64(len(expired))})
	return len(expired), err
}
