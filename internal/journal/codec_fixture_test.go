package journal_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
	"sphere.software/objstore/internal/recordcodec"
)

// format2Records are the records of testdata/format2.db, in key order: the
// file that the code of file format 2 (record values of format 1) wrote at
// commit d9943e5, by merging them into a new journal. They cover every
// field and flag of that value encoding: tombstones, a body version apart
// from the version, every level, InRemote, user meta, stored headers
// (including odd names and values), keys with 0x00 and non-UTF-8 bytes.
func format2Records() []objstore.Record {
	v := func(hlc uint64, n string) objstore.Version { return objstore.Version{HLC: hlc, Node: n} }
	const n1, n2 = "01JD0000000000000000000001", "01JD0000000000000000000002"
	recs := []objstore.Record{
		{
			Key: objstore.Key{Bucket: "alpha", ID: "a/b/c.txt"}, Name: "c.txt", ContentType: "text/plain; charset=utf-8",
			UserMeta: json.RawMessage(`{"owner":"ü","n":[1,2]}`), Level: objstore.LevelFull,
			Sum:     objstore.Checksum{Size: 1 << 33, CRC32C: 0xdeadbeef, MD5: objstore.MD5{1, 2, 3, 15: 0xff}},
			Version: v(1<<60, n1), BodyVersion: v(12345, n2), InRemote: true,
			Headers: map[string]string{
				"Cache-Control": "max-age=60", "Content-Disposition": `attachment; filename="c.txt"`,
				"Content-Encoding": "gzip", "Content-Language": "de", "Expires": "Thu, 01 Jan 2037 00:00:00 GMT",
			},
		},
		{Key: objstore.Key{Bucket: "alpha", ID: "deleted"}, Version: v(77, n2), Deleted: true},
		{Key: objstore.Key{Bucket: "alpha", ID: "foreign"}, Level: objstore.LevelS3, Version: v(1, ""), BodyVersion: v(1, ""), InRemote: true},
		{Key: objstore.Key{Bucket: "alpha", ID: "id\x00with\xffnul"}, Name: "x", Version: v(5, n1), BodyVersion: v(5, n1)},
		{
			Key: objstore.Key{Bucket: "beta", ID: "h"}, Level: objstore.LevelS3, Version: v(900, n2), BodyVersion: v(900, n2),
			Headers: map[string]string{"": "empty name", "X-Empty": "", "ü\x00": "\r\n\xff"},
		},
		{Key: objstore.Key{Bucket: "beta", ID: "raised"}, Level: objstore.LevelFull, Sum: objstore.Checksum{Size: 3, CRC32C: 7},
			Version: v(1000, n1), BodyVersion: v(999, n1), InRemote: true},
		{Key: objstore.Key{Bucket: "beta", ID: "tomb-of-headers"}, Version: v(1<<62, n1), BodyVersion: v(3, n2), Deleted: true},
	}
	for i := range 20 {
		hlc := uint64(1000 + i)
		recs = append(recs, objstore.Record{
			Key:  objstore.Key{Bucket: "gamma", ID: fmt.Sprintf("obj-%02d", i)},
			Name: fmt.Sprintf("obj-%02d.bin", i), ContentType: "application/octet-stream",
			Level: objstore.Level(i % 3), Sum: objstore.Checksum{Size: int64(i * 100), CRC32C: uint32(i), MD5: objstore.MD5{byte(i)}},
			Version: v(hlc, n1), BodyVersion: v(hlc, n1), InRemote: i%3 != 0, Deleted: i%7 == 6,
			UserMeta: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
		})
	}
	return recs
}

// TestOpenFormat2Testdata opens a copy of testdata/format2.db and reads
// every record back as it was written, with counts and digests that match
// them, before and after a reopen. Open migrates the file to format 3:
// every value rewritten in the encoding shared with the peer streams.
func TestOpenFormat2Testdata(t *testing.T) {
	path := copyTestdata(t, "format2.db")
	checkValueFormats(t, path, 1)
	s := openAt(t, path, journal.Options{NoSync: true})
	checkFixture(t, s)
	if f := closeAndFormat(t, s, path); f != 3 {
		t.Errorf("format after migration %d, want 3", f)
	}
	checkValueFormats(t, path, recordcodec.Format)
	s = openAt(t, path, journal.Options{NoSync: true})
	checkFixture(t, s)
}

// TestMigrationInterrupted opens testdata/format2.db after a migration
// that stopped half way: some values rewritten, the file still format 2.
func TestMigrationInterrupted(t *testing.T) {
	path := copyTestdata(t, "format2.db")
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		b := tx.Bucket(rawRecords)
		recs := format2Records()
		for _, rec := range recs[:len(recs)/2] {
			k := append(append([]byte(rec.Bucket), 0), rec.ID...)
			if err := b.Put(k, recordcodec.AppendValue(nil, rec)); err != nil {
				return err
			}
		}
		return nil
	})
	s := openAt(t, path, journal.Options{NoSync: true})
	checkFixture(t, s)
	if f := closeAndFormat(t, s, path); f != 3 {
		t.Errorf("format after migration %d, want 3", f)
	}
	checkValueFormats(t, path, recordcodec.Format)
}

// checkFixture checks that s holds format2Records and counts and digests
// that match them.
func checkFixture(t *testing.T, s *journal.Store) {
	t.Helper()
	want := format2Records()
	for _, rec := range want {
		got, err := s.Get(t.Context(), rec.Key)
		if err != nil || !reflect.DeepEqual(got, rec) {
			t.Errorf("Get %q = %+v, %v; want %+v", rec.Key, got, err, rec)
		}
	}
	if got := all(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("Range read %d records, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
	checkCounts(t, s, recount(want))
	checkDerived(t, s)
	groups, leaves := recomputeDigests(want)
	if g, l := digests(t, s); !reflect.DeepEqual(g, groups) || !reflect.DeepEqual(l, leaves) {
		t.Error("digests do not match the records")
	}
}

// checkValueFormats fails unless every record value of the closed journal
// at path starts with the format byte f.
func checkValueFormats(t *testing.T, path string, f byte) {
	t.Helper()
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(rawRecords).ForEach(func(k, v []byte) error {
			if len(v) == 0 || v[0] != f {
				t.Errorf("value of %q: format %x, want %d", k, v[:min(len(v), 1)], f)
			}
			return nil
		})
	})
}

// copyTestdata copies testdata/name into a temporary directory and returns
// the copy's path.
func copyTestdata(tb testing.TB, name string) string {
	tb.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "journal.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
