package journal

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

// Merge stores objstore.Merge(stored, rec) for rec's key, adjusting the
// counts, the indexes and the digests in the same transaction, and returns
// the winner and whether rec changed what was stored. It returns once the
// change is durable. Concurrent Merges share a transaction and an fsync (see
// the package doc).
func (s *Store) Merge(ctx context.Context, rec objstore.Record) (objstore.Record, bool, error) {
	return s.merge(ctx, rec, nil)
}

// merge is Merge, running also, when it is set, in the same transaction.
func (s *Store) merge(ctx context.Context, rec objstore.Record, also func(*bolt.Tx) error) (objstore.Record, bool, error) {
	if err := ctxErr(ctx, "merge"); err != nil {
		return objstore.Record{}, false, err
	}
	k, err := encodeKey(rec.Key)
	if err != nil {
		return objstore.Record{}, false, err
	}
	if rec.Level > objstore.MaxLevel {
		return objstore.Record{}, false, fmt.Errorf("journal: merge %s: level %d: %w", rec.Key, rec.Level, objstore.ErrInvalidLevel)
	}
	ik, err := intentKey(rec.Key, rec.Version)
	if err != nil {
		return objstore.Record{}, false, err
	}
	var (
		winner  objstore.Record
		changed bool
	)
	// DB.Batch may run this function more than once; every run derives its
	// result from the transaction's state and overwrites winner and changed.
	// The record's upload intent, if any, goes in the same transaction: one
	// lookup in a bucket of the uploads in flight.
	err = s.update(func(tx *bolt.Tx) error {
		var err error
		if winner, changed, err = mergeTx(tx, k, rec); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		return clearIntentTx(tx, ik, rec.Version)
	})
	if err != nil {
		return objstore.Record{}, false, fmt.Errorf("journal: merge %s: %w", rec.Key, err)
	}
	return winner, changed, nil
}

// mergeTx is the body of Merge inside a write transaction.
func mergeTx(tx *bolt.Tx, k []byte, rec objstore.Record) (objstore.Record, bool, error) {
	records := tx.Bucket(bucketRecords)
	old := records.Get(k)
	winner := rec
	var stored objstore.Record
	if old != nil {
		var err error
		if stored, err = decodeRecord(rec.Key, old); err != nil {
			return objstore.Record{}, false, err
		}
		winner = objstore.Merge(stored, rec)
	}
	enc := encodeRecord(winner)
	if old != nil && bytes.Equal(enc, old) {
		return stored, false, nil
	}
	if err := records.Put(k, enc); err != nil {
		return objstore.Record{}, false, err
	}
	delta := contribution(winner)
	var before *objstore.Record
	if old != nil {
		delta = sub(delta, contribution(stored))
		before = &stored
	}
	if err := reindexTx(tx, k, rec.Key, before, &winner); err != nil {
		return objstore.Record{}, false, err
	}
	if err := addCounts(tx.Bucket(bucketMeta), delta); err != nil {
		return objstore.Record{}, false, err
	}
	if err := raiseMaxHLC(tx.Bucket(bucketMeta), winner.Version.HLC); err != nil {
		return objstore.Record{}, false, err
	}
	return winner, true, nil
}

// contribution is what one stored record adds to the counts.
func contribution(r objstore.Record) objstore.Counts {
	if r.Deleted {
		return objstore.Counts{Tombstones: 1}
	}
	return objstore.Counts{Objects: 1, Bytes: r.Size()}
}

func sub(a, b objstore.Counts) objstore.Counts {
	return objstore.Counts{
		Objects:    a.Objects - b.Objects,
		Bytes:      a.Bytes - b.Bytes,
		Tombstones: a.Tombstones - b.Tombstones,
	}
}

// addCounts adds delta to the counts stored in meta.
func addCounts(meta *bolt.Bucket, delta objstore.Counts) error {
	if delta == (objstore.Counts{}) {
		return nil
	}
	c, err := decodeCounts(meta.Get(metaCounts))
	if err != nil {
		return err
	}
	c.Objects += delta.Objects
	c.Bytes += delta.Bytes
	c.Tombstones += delta.Tombstones
	return meta.Put(metaCounts, encodeCounts(c))
}
