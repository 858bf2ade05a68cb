package journal_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
	"sphere.software/objstore/internal/node"
)

var (
	_ node.Journal = (*journal.Store)(nil)
	_ node.Digests = (*journal.Store)(nil)
)

// openAt opens a store at path and closes it when the test ends. Closing a
// store twice is harmless, so tests may close it earlier.
func openAt(tb testing.TB, path string, opts journal.Options) *journal.Store {
	tb.Helper()
	s, err := journal.Open(path, opts)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

// openTemp opens a store in a fresh directory without fsync.
func openTemp(tb testing.TB) *journal.Store {
	tb.Helper()
	return openAt(tb, filepath.Join(tb.TempDir(), "state", "journal.db"), journal.Options{NoSync: true})
}

// live is a live record of bucket/id at HLC hlc written by node n, with a
// body written by the same change.
func live(bucket, id string, hlc uint64, n string, size int64) objstore.Record {
	v := objstore.Version{HLC: hlc, Node: n}
	return objstore.Record{
		Key:         objstore.Key{Bucket: bucket, ID: id},
		Name:        id + ".bin",
		Level:       objstore.LevelS3,
		Sum:         objstore.Checksum{Size: size, CRC32C: uint32(hlc), MD5: objstore.MD5{byte(size), 1, 2}},
		Version:     v,
		BodyVersion: v,
	}
}

// tomb is a tombstone of bucket/id at HLC hlc written by node n.
func tomb(bucket, id string, hlc uint64, n string) objstore.Record {
	return objstore.Record{
		Key:     objstore.Key{Bucket: bucket, ID: id},
		Version: objstore.Version{HLC: hlc, Node: n},
		Deleted: true,
	}
}

// merge merges rec and fails the test on error.
func merge(tb testing.TB, s *journal.Store, rec objstore.Record) (objstore.Record, bool) {
	tb.Helper()
	w, changed, err := s.Merge(context.Background(), rec)
	if err != nil {
		tb.Fatalf("merge %s: %v", rec.Key, err)
	}
	return w, changed
}

// mergeAll merges recs from several goroutines, so that they share
// transactions as concurrent Merges do in production.
func mergeAll(tb testing.TB, s *journal.Store, recs []objstore.Record) {
	tb.Helper()
	const workers = 16
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(recs); i += workers {
				if _, _, err := s.Merge(context.Background(), recs[i]); err != nil {
					tb.Errorf("merge %s: %v", recs[i].Key, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// all returns every record in Range order.
func all(tb testing.TB, s *journal.Store) []objstore.Record {
	tb.Helper()
	out, err := collect(context.Background(), s)
	if err != nil {
		tb.Fatalf("range: %v", err)
	}
	return out
}

// collect returns every record in Range order.
func collect(ctx context.Context, s *journal.Store) ([]objstore.Record, error) {
	var out []objstore.Record
	err := s.Range(ctx, func(r objstore.Record) bool {
		out = append(out, r)
		return true
	})
	return out, err
}

// counts returns the stored counts.
func counts(tb testing.TB, s *journal.Store) objstore.Counts {
	tb.Helper()
	c, err := s.Counts(context.Background())
	if err != nil {
		tb.Fatalf("counts: %v", err)
	}
	return c
}

// recount computes the counts from the records themselves.
func recount(recs []objstore.Record) objstore.Counts {
	var c objstore.Counts
	for _, r := range recs {
		if r.Deleted {
			c.Tombstones++
			continue
		}
		c.Objects++
		c.Bytes += r.Size()
	}
	return c
}

// checkCounts fails unless the stored counts are want and match a recount.
func checkCounts(tb testing.TB, s *journal.Store, want objstore.Counts) {
	tb.Helper()
	if got := counts(tb, s); got != want {
		tb.Errorf("counts = %+v, want %+v", got, want)
	}
	if got := recount(all(tb, s)); got != want {
		tb.Errorf("recount = %+v, want %+v", got, want)
	}
}
