package recordcodec

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

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
		// The body was written by the node that wrote the version: its
		// node is a reference to the version's.
		{Key: k, Version: objstore.Version{HLC: 9, Node: "n1"}, BodyVersion: objstore.Version{HLC: 8, Node: "n1"}},
		// A level-0 body lost to rot: the mark is a later version that
		// keeps the body version.
		{Key: k, Sum: objstore.Checksum{Size: 5}, Version: objstore.Version{HLC: 10, Node: "n2"},
			BodyVersion: objstore.Version{HLC: 8, Node: "n1"}, Lost: true},
	}
}

// TestLostFlag pins the lost mark to flag bit 4 and shows that a record
// without it encodes exactly as before the mark existed, so every value
// written before reads back unchanged.
func TestLostFlag(t *testing.T) {
	k := objstore.Key{Bucket: "b", ID: "i"}
	live := objstore.Record{Key: k, Version: objstore.Version{HLC: 7}, BodyVersion: objstore.Version{HLC: 7}}
	// format, flags, level, HLC, node (new, empty), size, crc32c, md5,
	// name, content type, user meta.
	want := append([]byte{Format, flagSameBody, 0, 7, 0, 0, 0}, make([]byte, 4+16+3)...)
	if got := AppendValue(nil, live); !bytes.Equal(got, want) {
		t.Fatalf("live record = %x, want %x", got, want)
	}
	lost := live
	lost.Lost = true
	enc := AppendValue(nil, lost)
	if enc[1] != flagSameBody|1<<4 {
		t.Fatalf("lost record flags = %#x, want %#x", enc[1], flagSameBody|1<<4)
	}
	got, err := DecodeValue(k, enc)
	if err != nil || !got.Lost {
		t.Fatalf("decode lost = %+v, %v", got, err)
	}
	old, err := DecodeValue(k, want)
	if err != nil || old.Lost {
		t.Fatalf("decode old value = %+v, %v", old, err)
	}
}

// appendValueV1 writes rec as the journal wrote values of format 1.
func appendValueV1(b []byte, rec objstore.Record) []byte {
	return appendBody(append(b, formatV1), rec, nil)
}

func TestValueRoundTrip(t *testing.T) {
	for i, rec := range sampleRecords() {
		enc := AppendValue(nil, rec)
		if enc[0] != Format {
			t.Errorf("record %d: format byte %d", i, enc[0])
		}
		got, err := DecodeValue(rec.Key, enc)
		if err != nil || !reflect.DeepEqual(got, rec) {
			t.Errorf("record %d: decode = %+v, %v; want %+v", i, got, err, rec)
		}
		if got, err := DecodeValue(rec.Key, appendValueV1(nil, rec)); err != nil || !reflect.DeepEqual(got, rec) {
			t.Errorf("record %d: decode of format 1 = %+v, %v; want %+v", i, got, err, rec)
		}
	}
}

// TestValueSharesNoMemory checks that a decoded record stays intact when
// the value's memory is reused, as bbolt reuses a transaction's pages.
func TestValueSharesNoMemory(t *testing.T) {
	rec := sampleRecords()[2]
	enc := AppendValue(nil, rec)
	got, err := DecodeValue(rec.Key, enc)
	if err != nil {
		t.Fatal(err)
	}
	clear(enc)
	if !reflect.DeepEqual(got, rec) {
		t.Fatalf("record changed with its value: %+v", got)
	}
}

// TestDecodeValueFormat1 decodes journal values byte for byte as the
// journal wrote them before it shared this codec (the old journal encoder
// printed them), before and after
// Record.Headers existed.
func TestDecodeValueFormat1(t *testing.T) {
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
		{
			"010c0000000000000000000000000000000000000000000000000000000201610131016200",
			objstore.Record{Key: k, Headers: map[string]string{"a": "1", "b": ""}},
		},
	}
	for i, tt := range tests {
		v, err := hex.DecodeString(tt.hex)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeValue(k, v)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("value %d: decode = %+v, %v; want %+v", i, got, err, tt.want)
		}
		if again := appendValueV1(nil, got); !bytes.Equal(again, v) {
			t.Errorf("value %d: format-1 encoding = %x; want %x", i, again, v)
		}
	}
}

// TestValueEncoding pins format 2: strings are references, and the second
// use of a node ID or header name in one value costs one byte.
func TestValueEncoding(t *testing.T) {
	k := objstore.Key{Bucket: "b", ID: "k"}
	rec := objstore.Record{
		Key: k, Version: objstore.Version{HLC: 7, Node: "n"}, BodyVersion: objstore.Version{HLC: 6, Node: "n"},
		Headers: map[string]string{"b": "2", "a": "1"},
	}
	want := []byte{Format, flagHeaders, 0, 7, 0, 1, 'n', 6, 1, 0}
	want = append(want, make([]byte, 20)...)  // crc32c, md5
	want = append(want, 0, 0, 0)              // name, content type, user meta
	want = append(want, 2, 0, 1, 'a', 1, '1') // headers: count, new name "a"
	want = append(want, 0, 1, 'b', 1, '2')    // new name "b"
	if got := AppendValue(nil, rec); !bytes.Equal(got, want) {
		t.Fatalf("encoding\n %x, want\n %x", got, want)
	}
}

func TestDecodeValueRejects(t *testing.T) {
	rec := sampleRecords()[2]
	good := AppendValue(nil, rec)
	k := objstore.Key{Bucket: "b", ID: "k"}
	plain := AppendValue(nil, objstore.Record{Key: k})
	withBlock := func(block ...byte) []byte {
		v := bytes.Clone(plain)
		v[1] |= flagHeaders
		return append(v, block...)
	}
	same := sampleRecords()[3]
	sameEnc := AppendValue(nil, same)
	spelt := append([]byte{sameEnc[0], sameEnc[1] &^ flagSameBody, sameEnc[2]}, appendVersion(nil, same.Version, nil)...)
	spelt = append(spelt, sameEnc[3:]...)
	tests := map[string]struct {
		key objstore.Key
		v   []byte
	}{
		"empty":                       {rec.Key, []byte{}},
		"unknown format":              {rec.Key, append([]byte{3}, good[1:]...)},
		"unknown flag":                {rec.Key, append([]byte{Format, 0x80}, good[2:]...)},
		"level too high":              {rec.Key, append([]byte{Format, good[1], byte(objstore.MaxLevel + 1)}, good[3:]...)},
		"trailing bytes":              {rec.Key, append(bytes.Clone(good), 0)},
		"huge length":                 {rec.Key, append(bytes.Clone(good[:3]), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		"varint overflow":             {rec.Key, append(bytes.Clone(good[:3]), bytes.Repeat([]byte{0xff}, 11)...)},
		"overlong varint":             {rec.Key, append(append(bytes.Clone(good[:3]), 0x80|good[3], 0), good[4:]...)},
		"same body version spelt out": {same.Key, spelt},
		"string written out twice":    {k, append([]byte{Format, 0, 0, 7, 0, 1, 'n', 6, 0, 1, 'n'}, make([]byte, 23)...)},
		"string ref past table":       {k, append([]byte{Format, 0, 0, 7, 0, 1, 'n', 6, 2}, make([]byte, 23)...)},
		"flag without block":          {k, withBlock()},
		"empty block":                 {k, withBlock(0)},
		"duplicate name":              {k, withBlock(2, 0, 1, 'a', 1, '1', 1, 1, '2')},
		"names out of order":          {k, withBlock(2, 0, 1, 'b', 1, '2', 0, 1, 'a', 1, '1')},
		"count past end":              {k, withBlock(3, 0, 1, 'a', 1, '1')},
		"huge count":                  {k, withBlock(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		"value cut":                   {k, withBlock(1, 0, 1, 'a', 2, '1')},
		"block without flag":          {k, append(bytes.Clone(plain), 1, 0, 1, 'a', 1, '1')},
		"empty bucket":                {objstore.Key{ID: "k"}, plain},
		"empty id":                    {objstore.Key{Bucket: "b"}, plain},
		"nul in bucket":               {objstore.Key{Bucket: "b\x00", ID: "k"}, plain},
	}
	for n := 1; n < len(good); n++ {
		tests[fmt.Sprintf("truncated at %d", n)] = struct {
			key objstore.Key
			v   []byte
		}{rec.Key, good[:n]}
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeValue(tt.key, tt.v)
			if err == nil {
				t.Fatalf("decode of %x succeeded: %+v", tt.v, got)
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.key.String()) {
				t.Errorf("error %q does not wrap ErrMalformed or name the key", err)
			}
		})
	}
	if _, err := DecodeValue(k, plain); err != nil {
		t.Fatalf("plain value: %v", err)
	}
}

// TestEveryFieldRoundTrips sets every field of a Record, found by
// reflection, so that a field added to objstore.Record later fails here
// until the codec stores it.
func TestEveryFieldRoundTrips(t *testing.T) {
	for seed := range 3 {
		var rec objstore.Record
		fillFields(t, reflect.ValueOf(&rec).Elem(), seed+1)
		rec.Level = objstore.Level(seed) // fillFields would exceed MaxLevel
		got, err := DecodeValue(rec.Key, AppendValue(nil, rec))
		if err != nil || !reflect.DeepEqual(got, rec) {
			t.Errorf("seed %d: value decode = %+v, %v; want %+v", seed, got, err, rec)
		}
		recs, err := decodeWhole(EncodeStream([]objstore.Record{rec, rec}))
		if err != nil || !reflect.DeepEqual(recs, []objstore.Record{rec, rec}) {
			t.Errorf("seed %d: stream decode = %+v, %v; want the record twice", seed, recs, err)
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
		v.SetString("s" + strings.Repeat("x", seed))
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
			"k" + strings.Repeat("x", seed): "v", "j" + strings.Repeat("x", seed): "",
		}))
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			t.Fatalf("fillFields: no rule for %s", v.Type())
		}
		v.SetBytes([]byte(`{"n":"` + strings.Repeat("x", seed) + `"}`))
	default:
		t.Fatalf("fillFields: no rule for %s", v.Type())
	}
	return seed + 1
}

// decodeWhole decodes a stream that must fill b.
func decodeWhole(b []byte) ([]objstore.Record, error) {
	recs, rest, err := DecodeStream(b)
	if err == nil && len(rest) > 0 {
		return nil, errors.New("bytes after the stream")
	}
	return recs, err
}
