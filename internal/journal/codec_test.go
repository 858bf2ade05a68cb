package journal

import (
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

func TestCountsRoundTrip(t *testing.T) {
	for _, c := range []objstore.Counts{{}, {Objects: 1, Bytes: 1 << 50, Tombstones: 7}, {Objects: -1}} {
		got, err := decodeCounts(encodeCounts(c))
		if err != nil || got != c {
			t.Errorf("counts %+v: decode = %+v, %v", c, got, err)
		}
	}
	if c, err := decodeCounts(nil); err != nil || c != (objstore.Counts{}) {
		t.Errorf("missing counts = %+v, %v; want zero", c, err)
	}
	for _, v := range [][]byte{{}, {2, 0, 0, 0}, {countsFormat, 0, 0}, {countsFormat, 0, 0, 0, 0}, {countsFormat, 0x80, 0, 0, 0}} {
		if _, err := decodeCounts(v); err == nil {
			t.Errorf("decodeCounts(%x) succeeded", v)
		}
	}
}

func TestKeyEncoding(t *testing.T) {
	tests := []struct {
		key  objstore.Key
		want string
	}{
		{objstore.Key{Bucket: "b", ID: "k"}, "b\x00k"},
		{objstore.Key{Bucket: "my-bucket", ID: "a/b/c.txt"}, "my-bucket\x00a/b/c.txt"},
		{objstore.Key{Bucket: "b", ID: "\x00"}, "b\x00\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			enc, err := encodeKey(tt.key)
			if err != nil || string(enc) != tt.want {
				t.Fatalf("encodeKey = %q, %v; want %q", enc, err, tt.want)
			}
			if got, err := decodeKey(enc); err != nil || got != tt.key {
				t.Errorf("decodeKey = %+v, %v; want %+v", got, err, tt.key)
			}
		})
	}
	for _, bad := range []string{"", "b", "b\x00", "\x00k"} {
		if k, err := decodeKey([]byte(bad)); err == nil {
			t.Errorf("decodeKey(%q) = %+v, want an error", bad, k)
		}
	}
}

// TestCorruptValueIsReported checks that a value that does not decode stops
// Get, Merge and Range with an error instead of being skipped or replaced.
func TestCorruptValueIsReported(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "journal.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }() // nothing to check after the test
	key := objstore.Key{Bucket: "b", ID: "k"}
	enc, _ := encodeKey(key) // valid key
	err = s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRecords).Put(enc, []byte{9, 9}) })
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := s.Get(ctx, key); err == nil || errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get error = %v, want a decode error", err)
	}
	rec := objstore.Record{Key: key, Version: objstore.Version{HLC: 5, Node: "n"}}
	if _, _, err := s.Merge(ctx, rec); err == nil {
		t.Error("Merge over a corrupt value succeeded")
	}
	if err := s.Range(ctx, func(objstore.Record) bool { return true }); err == nil {
		t.Error("Range over a corrupt value succeeded")
	}
}

// TestOpenRejectsUnknownFormat checks that a file written by a future
// layout is refused rather than misread.
func TestOpenRejectsUnknownFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaFormat, []byte{fileFormat + 1}) })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path, Options{NoSync: true}); err == nil {
		_ = s.Close() // the test has failed already
		t.Fatal("Open of a file with an unknown format succeeded")
	}
}
