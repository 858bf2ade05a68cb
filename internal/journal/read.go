package journal

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

// ctxCheckEvery is how many records Range hands out between context checks.
const ctxCheckEvery = 64

// Get returns the stored record of key, a tombstone included, or an error
// wrapping objstore.ErrNotFound.
func (s *Store) Get(ctx context.Context, key objstore.Key) (objstore.Record, error) {
	if err := ctxErr(ctx, "get"); err != nil {
		return objstore.Record{}, err
	}
	k, err := encodeKey(key)
	if err != nil {
		return objstore.Record{}, err
	}
	var rec objstore.Record
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRecords).Get(k)
		if v == nil {
			return objstore.ErrNotFound
		}
		var err error
		rec, err = decodeRecord(key, v)
		return err
	})
	if err != nil {
		return objstore.Record{}, fmt.Errorf("journal: get %s: %w", key, err)
	}
	return rec, nil
}

// Counts returns the live object count and bytes and the tombstone count.
func (s *Store) Counts(ctx context.Context) (objstore.Counts, error) {
	if err := ctxErr(ctx, "counts"); err != nil {
		return objstore.Counts{}, err
	}
	var c objstore.Counts
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		c, err = decodeCounts(tx.Bucket(bucketMeta).Get(metaCounts))
		return err
	})
	if err != nil {
		return objstore.Counts{}, fmt.Errorf("journal: counts: %w", err)
	}
	return c, nil
}

// Range calls fn for every record, tombstones included, in key order
// (bucket, then ID) until fn returns false. It reads the records a page at a
// time and calls fn outside any transaction, so fn may call Merge; a record
// merged during the scan is seen if its key is after the current page.
//
// A scan of the whole journal then drops the file's pages from the
// process's resident set (see releaseMapped): they stay in the page cache,
// but a node that scans a million records at start or in its repair scan
// does not keep the whole file mapped, which would cost it about as much
// resident memory per object as the file holds.
func (s *Store) Range(ctx context.Context, fn func(objstore.Record) bool) error {
	var after []byte
	for {
		if err := ctxErr(ctx, "range"); err != nil {
			return err
		}
		page, last, err := s.rangePage(after, s.page)
		if err != nil {
			return fmt.Errorf("journal: range: %w", err)
		}
		more, err := s.emit(ctx, "range", page, fn)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		after = last
	}
	if err := s.db.View(releaseMapped); err != nil {
		return fmt.Errorf("journal: range: release mapped pages: %w", err)
	}
	return nil
}

// emit calls fn for each record of a page, checking ctx every so often. It
// reports whether the caller should read another page: fn wanted more and
// the page was full.
func (s *Store) emit(ctx context.Context, op string, page []objstore.Record, fn func(objstore.Record) bool) (bool, error) {
	for i, rec := range page {
		if i%ctxCheckEvery == ctxCheckEvery-1 {
			if err := ctxErr(ctx, op); err != nil {
				return false, err
			}
		}
		if !fn(rec) {
			return false, nil
		}
	}
	return len(page) == s.page, nil
}

// rangePage reads up to n records whose keys sort after the key after (from
// the first key when after is nil). It returns them and a copy of the last
// key.
func (s *Store) rangePage(after []byte, n int) ([]objstore.Record, []byte, error) {
	return s.readPage(after, false, n)
}

// readPage reads up to n records from pos on: keys after pos, or at or
// after it when inclusive. A nil pos starts at the first key.
func (s *Store) readPage(pos []byte, inclusive bool, n int) ([]objstore.Record, []byte, error) {
	recs := make([]objstore.Record, 0, n)
	var last []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		var k, v []byte
		if inclusive {
			k, v = c.Seek(pos)
		} else {
			k, v = seekAfter(c, pos)
		}
		for ; k != nil && len(recs) < n; k, v = c.Next() {
			rec, err := decodeEntry(k, v)
			if err != nil {
				return err
			}
			recs = append(recs, rec)
			last = k
		}
		last = bytes.Clone(last)
		return nil
	})
	return recs, last, err
}

// seekAfter positions c on the first key after after (the first key of all
// when after is nil).
func seekAfter(c *bolt.Cursor, after []byte) ([]byte, []byte) {
	if after == nil {
		return c.First()
	}
	k, v := c.Seek(after)
	if k != nil && bytes.Equal(k, after) {
		return c.Next()
	}
	return k, v
}

// decodeEntry decodes one key/value pair of the records bucket.
func decodeEntry(k, v []byte) (objstore.Record, error) {
	key, err := decodeKey(k)
	if err != nil {
		return objstore.Record{}, err
	}
	return decodeRecord(key, v)
}

// Scan calls fn for the records of one bucket whose IDs sort at or after
// from, tombstones included, in ID order, until fn returns false. Like
// Range it reads a page at a time and calls fn outside any transaction. It
// serves listings, which seek into a bucket rather than walk the journal.
func (s *Store) Scan(ctx context.Context, bucket, from string, fn func(objstore.Record) bool) error {
	if err := checkKey(objstore.Key{Bucket: bucket, ID: "x"}); err != nil {
		return fmt.Errorf("journal: scan: %w", err)
	}
	pos := append(append([]byte(bucket), keySep), from...)
	inclusive := true
	for {
		if err := ctxErr(ctx, "scan"); err != nil {
			return err
		}
		page, last, err := s.readPage(pos, inclusive, s.page)
		if err != nil {
			return fmt.Errorf("journal: scan %s: %w", bucket, err)
		}
		n := 0
		for n < len(page) && page[n].Bucket == bucket {
			n++
		}
		// A page cut short at the bucket's end is never "full", so emit
		// reports no more.
		if more, err := s.emit(ctx, "scan", page[:n], fn); !more || err != nil {
			return err
		}
		pos, inclusive = last, false
	}
}
