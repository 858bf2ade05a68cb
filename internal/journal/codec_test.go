package journal

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

func sampleRecords() []objstore.Record {
	k := objstore.Key{Bucket: "bucket", ID: "dir/obj\x00.txt"}
	return []objstore.Record{
		{Key: k},
		{Key: k, Version: objstore.Version{HLC: 1 << 60, Node: "01J0000000000000000000000"}, Deleted: true},
		{
			Key: k, Name: "obj.txt", ContentType: "text/plain; charset=utf-8",
			UserMeta: json.RawMessage(`{"a":[1,2,"ü"]}`), Level: objstore.LevelFull,
			Sum:         objstore.Checksum{Size: 1 << 40, CRC32C: 0xdeadbeef, MD5: objstore.MD5{1, 2, 3, 15: 0xff}},
			Version:     objstore.Version{HLC: ^uint64(0), Node: strings.Repeat("n", 300)},
			BodyVersion: objstore.Version{HLC: 12345, Node: "body-node"},
			InRemote:    true,
			Headers: map[string]string{
				"Cache-Control": "max-age=60", "Content-Encoding": "gzip", "Expires": "Thu, 01 Jan 2037 00:00:00 GMT",
				"X-Empty": "", "": "empty name", "ü\x00": "\r\n\xff",
			},
		},
		{
			Key: k, Level: objstore.LevelS3, Sum: objstore.Checksum{Size: 3},
			Version:     objstore.Version{HLC: 99, Node: "n1"},
			BodyVersion: objstore.Version{HLC: 99, Node: "n1"},
		},
		{Key: k, Sum: objstore.Checksum{Size: -1}}, // not valid, but must round-trip
		{Key: k, Headers: map[string]string{"Content-Language": "de"}},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for i, rec := range sampleRecords() {
		enc := encodeRecord(rec)
		if enc[0] != formatV1 {
			t.Errorf("record %d: version byte %d", i, enc[0])
		}
		got, err := decodeRecord(rec.Key, enc)
		if err != nil || !reflect.DeepEqual(got, rec) {
			t.Errorf("record %d: decode = %+v, %v; want %+v", i, got, err, rec)
		}
	}
}

func TestDecodeRecordRejectsCorruption(t *testing.T) {
	rec := sampleRecords()[2]
	good := encodeRecord(rec)
	tests := []struct {
		name string
		v    []byte
	}{
		{"empty", []byte{}},
		{"unknown version", append([]byte{2}, good[1:]...)},
		{"unknown flag", append([]byte{formatV1, 0x80}, good[2:]...)},
		{"level too high", append([]byte{formatV1, good[1], byte(objstore.MaxLevel + 1)}, good[3:]...)},
		{"trailing bytes", append(bytes.Clone(good), 0)},
		{"huge length", append(bytes.Clone(good[:3]), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		{"varint overflow", append(bytes.Clone(good[:3]), bytes.Repeat([]byte{0xff}, 11)...)},
		{"same body version spelt out", sameBodySpeltOut()},
		{"overlong varint", append(append(bytes.Clone(good[:3]), 0x80|good[3], 0), good[4:]...)},
	}
	for n := 1; n < len(good); n++ {
		tests = append(tests, struct {
			name string
			v    []byte
		}{"truncated", good[:n]})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeRecord(rec.Key, tt.v)
			if err == nil {
				t.Fatalf("decode of %x succeeded: %+v", tt.v, got)
			}
			if !strings.Contains(err.Error(), rec.Key.String()) {
				t.Errorf("error %q does not name the key", err)
			}
		})
	}
}

// TestDecodeFormatBeforeHeaders decodes values written before
// Record.Headers existed, byte for byte as that encoder wrote them: they
// must decode as they did, with nil Headers, and encode again unchanged.
func TestDecodeFormatBeforeHeaders(t *testing.T) {
	k := objstore.Key{Bucket: "b", ID: "k"}
	tests := []struct {
		hex  string
		want objstore.Record
	}{
		{
			"010201ac02026e31c801026e320a01020304aa0000000000000000000000000000bb05612e7478740a746578742f706c61696e097b2278223a2279227d",
			objstore.Record{
				Key: k, Name: "a.txt", ContentType: "text/plain", UserMeta: json.RawMessage(`{"x":"y"}`), Level: objstore.LevelS3,
				Sum:     objstore.Checksum{Size: 5, CRC32C: 0x01020304, MD5: objstore.MD5{0xaa, 15: 0xbb}},
				Version: objstore.Version{HLC: 300, Node: "n1"}, BodyVersion: objstore.Version{HLC: 200, Node: "n2"},
				InRemote: true,
			},
		},
		{
			"01050007016e000000000000000000000000000000000000000000000000",
			objstore.Record{
				Key: k, Version: objstore.Version{HLC: 7, Node: "n"}, BodyVersion: objstore.Version{HLC: 7, Node: "n"},
				Deleted: true,
			},
		},
	}
	for i, tt := range tests {
		v, err := hex.DecodeString(tt.hex)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecord(k, v)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("value %d: decode = %+v, %v; want %+v", i, got, err, tt.want)
		}
		if again := encodeRecord(got); !bytes.Equal(again, v) {
			t.Errorf("value %d: encode = %x; want %x", i, again, v)
		}
	}
}

// TestHeadersEncoding pins the headers block and checks that the decoder
// takes only its canonical form.
func TestHeadersEncoding(t *testing.T) {
	k := objstore.Key{Bucket: "b", ID: "k"}
	rec := objstore.Record{Key: k, Headers: map[string]string{"b": "2", "a": "1"}}
	enc := encodeRecord(rec)
	plain := encodeRecord(objstore.Record{Key: k})
	if enc[1] != plain[1]|flagHeaders {
		t.Fatalf("flags %#02x, want %#02x", enc[1], plain[1]|flagHeaders)
	}
	block := []byte{2, 1, 'a', 1, '1', 1, 'b', 1, '2'} // sorted by name
	if !bytes.Equal(enc[:len(plain)], append([]byte{plain[0], enc[1]}, plain[2:]...)) || !bytes.Equal(enc[len(plain):], block) {
		t.Fatalf("encoding %x, want %x with flag %#02x, then %x", enc, plain, flagHeaders, block)
	}
	withBlock := func(block ...byte) []byte {
		v := bytes.Clone(plain)
		v[1] |= flagHeaders
		return append(v, block...)
	}
	bad := map[string][]byte{
		"flag without block": withBlock(),
		"empty block":        withBlock(0),
		"duplicate name":     withBlock(2, 1, 'a', 1, '1', 1, 'a', 1, '2'),
		"names out of order": withBlock(2, 1, 'b', 1, '2', 1, 'a', 1, '1'),
		"count past end":     withBlock(3, 1, 'a', 1, '1', 1, 'b', 1, '2'),
		"huge count":         withBlock(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		"value cut":          withBlock(1, 1, 'a', 2, '1'),
		"no value":           withBlock(1, 1, 'a'),
		"block without flag": append(bytes.Clone(plain), block...),
		"unknown flag":       append([]byte{enc[0], enc[1] | 1<<4}, enc[2:]...),
		"trailing bytes":     withBlock(1, 1, 'a', 1, '1', 0),
	}
	for name, v := range bad {
		t.Run(name, func(t *testing.T) {
			if got, err := decodeRecord(k, v); err == nil {
				t.Fatalf("decode of %x succeeded: %+v", v, got)
			}
		})
	}
	if got, err := decodeRecord(k, withBlock(block...)); err != nil || !reflect.DeepEqual(got.Headers, rec.Headers) {
		t.Fatalf("decode = %+v, %v", got, err)
	}
}

// sameBodySpeltOut encodes a record whose BodyVersion equals its Version
// without flagSameBody, repeating the version: not the canonical encoding.
func sameBodySpeltOut() []byte {
	rec := sampleRecords()[3]
	enc := encodeRecord(rec)
	ver := appendVersion(nil, rec.Version)
	out := []byte{enc[0], enc[1] &^ flagSameBody, enc[2]}
	out = append(out, ver...)
	return append(out, enc[3:]...)
}

// TestEveryFieldRoundTrips sets every field of a Record, found by
// reflection, so that a field added to objstore.Record later fails here
// until the codec stores it.
func TestEveryFieldRoundTrips(t *testing.T) {
	for seed := range 3 {
		var rec objstore.Record
		fillFields(t, reflect.ValueOf(&rec).Elem(), seed+1)
		rec.Level = objstore.Level(seed) // fillFields would exceed MaxLevel
		got, err := decodeRecord(rec.Key, encodeRecord(rec))
		if err != nil || !reflect.DeepEqual(got, rec) {
			t.Errorf("seed %d: decode = %+v, %v; want %+v", seed, got, err, rec)
		}
	}
}

// fillFields sets every settable leaf of v to a non-zero value derived from
// seed, different for each field.
func fillFields(t *testing.T, v reflect.Value, seed int) int {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			seed = fillFields(t, v.Field(i), seed)
		}
		return seed
	case reflect.Array:
		for i := range v.Len() {
			seed = fillFields(t, v.Index(i), seed)
		}
		return seed
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", seed))
	case reflect.Bool:
		v.SetBool(seed%2 == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(seed))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(seed))
	case reflect.Map:
		if v.Type() != reflect.TypeFor[map[string]string]() {
			t.Fatalf("fillFields: no rule for %s", v.Type())
		}
		v.Set(reflect.ValueOf(map[string]string{
			fmt.Sprintf("k%d", seed): fmt.Sprintf("v%d", seed), fmt.Sprintf("j%d", seed): "",
		}))
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			t.Fatalf("fillFields: no rule for %s", v.Type())
		}
		v.SetBytes(fmt.Appendf(nil, `{"n":%d}`, seed))
	default:
		t.Fatalf("fillFields: no rule for %s", v.Type())
	}
	return seed + 1
}

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
	for _, v := range [][]byte{{}, {2, 0, 0, 0}, {formatV1, 0, 0}, {formatV1, 0, 0, 0, 0}} {
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

func FuzzDecodeRecord(f *testing.F) {
	for _, rec := range sampleRecords() {
		f.Add(encodeRecord(rec))
	}
	key := objstore.Key{Bucket: "b", ID: "k"}
	f.Fuzz(func(t *testing.T, v []byte) {
		rec, err := decodeRecord(key, v)
		if err != nil {
			return
		}
		if again := encodeRecord(rec); !bytes.Equal(again, v) {
			t.Errorf("decode then encode changed the value:\n%x\n%x", v, again)
		}
	})
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
