package journal_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
)

// The file layout, as doc.go describes it.
var (
	rawRecords = []byte("records")
	rawMeta    = []byte("meta")
	rawFormat  = []byte("format")
	rawNodeID  = []byte("node_id")
	rawDerived = [][]byte{[]byte("leaves"), []byte("tombstones"), []byte("group_digests")}
)

// rawUpdate runs fn in a write transaction on the closed journal at path.
func rawUpdate(tb testing.TB, path string, fn func(tx *bolt.Tx) error) {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		tb.Fatal(err)
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
}

// rawMetaValue returns a copy of the value of key in the meta bucket.
func rawMetaValue(tb testing.TB, path string, key []byte) []byte {
	tb.Helper()
	var v []byte
	rawUpdate(tb, path, func(tx *bolt.Tx) error {
		v = append([]byte(nil), tx.Bucket(rawMeta).Get(key)...)
		return nil
	})
	return v
}

// setFormat1 marks the closed journal at path as format 1.
func setFormat1(tx *bolt.Tx) error { return tx.Bucket(rawMeta).Put(rawFormat, []byte{1}) }

// dropDerived makes the closed journal at path what format 1 wrote: the
// records and meta buckets only, format 1.
func dropDerived(tx *bolt.Tx) error {
	for _, name := range rawDerived {
		if err := tx.DeleteBucket(name); err != nil {
			return err
		}
	}
	return setFormat1(tx)
}

// TestMigrateTestdata opens a copy of testdata/format1.db, a file that the
// format-1 code wrote (40 live records in three buckets, eight of them
// deleted later, some raised, and one tombstone of a key never written).
func TestMigrateTestdata(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "format1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "journal.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	nodeID := string(rawMetaValue(t, path, rawNodeID))

	s := openAt(t, path, journal.Options{NoSync: true})
	if s.NodeID() != nodeID {
		t.Errorf("node id after migration %q, want %q", s.NodeID(), nodeID)
	}
	checkCounts(t, s, objstore.Counts{Objects: 33, Bytes: 6500, Tombstones: 8})
	checkDerived(t, s)
	recs := all(t, s)
	groups, leaves := digests(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if f := rawMetaValue(t, path, rawFormat); !reflect.DeepEqual(f, []byte{3}) {
		t.Errorf("format after migration %v, want [3]", f)
	}

	s = openAt(t, path, journal.Options{NoSync: true})
	if got := all(t, s); !reflect.DeepEqual(got, recs) {
		t.Error("records changed across reopen")
	}
	if g, l := digests(t, s); !reflect.DeepEqual(g, groups) || !reflect.DeepEqual(l, leaves) {
		t.Error("digests changed across reopen")
	}
	if n, err := s.ExpireTombstones(t.Context(), ^uint64(0)); err != nil || n != 8 {
		t.Errorf("ExpireTombstones after migration = %d, %v; want 8", n, err)
	}
	checkDerived(t, s)
}

// TestMigrateRebuilds makes format-1 files out of format-2 ones, with more
// records than one migration transaction holds: with the derived buckets
// dropped, as format 1 wrote them, and with stale derived buckets and
// counts, as an interrupted migration could leave them.
func TestMigrateRebuilds(t *testing.T) {
	recs := numbered(2500)
	for i := 0; i < len(recs); i += 3 {
		recs[i] = tomb(recs[i].Bucket, recs[i].ID, recs[i].Version.HLC+10, "n2")
	}
	tests := []struct {
		name    string
		prepare func(tx *bolt.Tx) error
	}{
		{"format 1", dropDerived},
		{"stale derived buckets", func(tx *bolt.Tx) error {
			// Records vanish behind the indexes' and counts' back.
			c := tx.Bucket(rawRecords).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if k[len(k)-1]%4 == 0 {
					if err := c.Delete(); err != nil {
						return err
					}
				}
			}
			return setFormat1(tx)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.db")
			s := openAt(t, path, journal.Options{NoSync: true})
			mergeAll(t, s, recs)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			rawUpdate(t, path, tt.prepare)

			s = openAt(t, path, journal.Options{NoSync: true})
			checkDerived(t, s)
			got := all(t, s)
			if len(got) < 1500 {
				t.Errorf("%d records after migration", len(got))
			}
			checkCounts(t, s, recount(got))
			if f := closeAndFormat(t, s, path); f != 3 {
				t.Errorf("format after migration %d, want 3", f)
			}
		})
	}
}

// closeAndFormat closes s and returns the stored format byte.
func closeAndFormat(tb testing.TB, s *journal.Store, path string) byte {
	tb.Helper()
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	f := rawMetaValue(tb, path, rawFormat)
	if len(f) != 1 {
		tb.Fatalf("format value %v", f)
	}
	return f[0]
}
