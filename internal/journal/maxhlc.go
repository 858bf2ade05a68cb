package journal

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// metaMaxHLC holds the highest HLC of any record the journal has stored,
// tombstones included, as 8 big-endian bytes. A node's clock starts past it
// without a scan of the records: a write right after a restart must not
// get a version older than one the journal holds.
var metaMaxHLC = []byte("max_hlc")

// MaxHLC returns the highest HLC of any record stored, 0 for an empty
// journal.
func (s *Store) MaxHLC(ctx context.Context) (uint64, error) {
	if err := ctxErr(ctx, "max hlc"); err != nil {
		return 0, err
	}
	var ts uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		ts = loadMaxHLC(tx.Bucket(bucketMeta))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("journal: max hlc: %w", err)
	}
	return ts, nil
}

func loadMaxHLC(meta *bolt.Bucket) uint64 {
	v := meta.Get(metaMaxHLC)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// raiseMaxHLC stores ts in meta if it is higher than the stored value.
func raiseMaxHLC(meta *bolt.Bucket, ts uint64) error {
	if ts <= loadMaxHLC(meta) {
		return nil
	}
	return meta.Put(metaMaxHLC, binary.BigEndian.AppendUint64(nil, ts))
}

// ensureMaxHLC computes the highest HLC once, for a journal written before
// the value was kept: one pass over the records at the first start of a
// binary that keeps it, none after.
func (s *Store) ensureMaxHLC() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta.Get(metaMaxHLC) != nil {
			return nil
		}
		var highest uint64
		err := tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
			key, err := decodeKey(k)
			if err != nil {
				return err
			}
			rec, err := decodeRecord(key, v)
			if err != nil {
				return err
			}
			highest = max(highest, rec.Version.HLC)
			return nil
		})
		if err != nil {
			return fmt.Errorf("compute max hlc: %w", err)
		}
		return meta.Put(metaMaxHLC, binary.BigEndian.AppendUint64(nil, highest))
	})
}
