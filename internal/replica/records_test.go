package replica

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"sphere.software/objstore"
)

// fillValue sets every field reachable from v to a random non-zero value
// that the codec accepts. It fails on a kind it does not know, so that a
// new kind of field in Record gets a filler (and an encoding) before the
// round-trip test passes.
func fillValue(t *testing.T, rng *rand.Rand, v reflect.Value, path string) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[objstore.Level]():
		v.SetUint(1 + rng.Uint64N(uint64(objstore.MaxLevel)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fillValue(t, rng, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Array:
		for i := range v.Len() {
			fillValue(t, rng, v.Index(i), path)
		}
	case reflect.String:
		v.SetString(randomString(rng))
	case reflect.Map:
		if v.Type() != reflect.TypeFor[map[string]string]() {
			t.Fatalf("%s: map %s: teach fillValue and the codec", path, v.Type())
		}
		h := map[string]string{}
		for range 1 + rng.IntN(3) {
			h[randomString(rng)] = randomString(rng)
		}
		v.Set(reflect.ValueOf(h))
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			t.Fatalf("%s: slice of %s: teach fillValue and the codec", path, v.Type().Elem())
		}
		v.SetBytes([]byte(randomString(rng)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1 + rng.Uint64N(1<<(v.Type().Bits()-1)))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(1 + rng.Int64N(1<<(v.Type().Bits()-2)))
	default:
		t.Fatalf("%s: kind %s: teach fillValue and the codec", path, v.Kind())
	}
}

// randomString returns a non-empty string of hostile bytes, without 0x00.
func randomString(rng *rand.Rand) string {
	const alphabet = "ab/..%20?#&=+ \r\n\t\x01\xff\u00e9\U0001F600"
	var b strings.Builder
	for range 1 + rng.IntN(20) {
		b.WriteByte(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

// TestRecordRoundTripEveryField fails when a field of Record is not encoded:
// every field is set to a non-zero value that must come back.
func TestRecordRoundTripEveryField(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var rec objstore.Record
		fillValue(t, rng, reflect.ValueOf(&rec).Elem(), "Record")
		if i%2 == 0 {
			rec.BodyVersion = rec.Version // the short form
		}
		recs := []objstore.Record{rec, rec}
		got, err := decodeRecords(encodeRecords(recs))
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !reflect.DeepEqual(got, recs) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, recs)
		}
	}
}

// TestRecordRoundTripProperty round-trips arbitrary batches, zero fields,
// nil and empty user meta included.
func TestRecordRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		recs := rapid.SliceOf(rapid.Make[objstore.Record]()).Draw(t, "recs")
		for i := range recs {
			recs[i].Bucket = "b" + strings.ReplaceAll(recs[i].Bucket, "\x00", "")
			recs[i].ID += "i"
			recs[i].Level %= objstore.MaxLevel + 1
			if rapid.Bool().Draw(t, "same body") {
				recs[i].BodyVersion = recs[i].Version
			}
			if len(recs[i].Headers) == 0 {
				recs[i].Headers = nil // "none" is nil on the wire
			}
		}
		got, err := decodeRecords(encodeRecords(recs))
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if len(recs) == 0 {
			recs = nil
		}
		if !reflect.DeepEqual(got, recs) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, recs)
		}
	})
}

func TestUserMetaNilAndEmpty(t *testing.T) {
	key := objstore.Key{Bucket: "b", ID: "i"}
	recs := []objstore.Record{{Key: key}, {Key: key, UserMeta: []byte{}}, {Key: key, UserMeta: []byte("{}")}}
	got, err := decodeRecords(encodeRecords(recs))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].UserMeta != nil || got[1].UserMeta == nil || len(got[1].UserMeta) != 0 || string(got[2].UserMeta) != "{}" {
		t.Fatalf("user meta: %q %q %q", got[0].UserMeta, got[1].UserMeta, got[2].UserMeta)
	}
}

// TestDecodeFormatBeforeHeaders decodes a stream exactly as the encoder
// wrote it before Record.Headers existed: it must decode as it did, and a
// record without headers must encode to the same bytes.
func TestDecodeFormatBeforeHeaders(t *testing.T) {
	const old = "01430201000162016bac0200026e31c80100026e320a01020304aa0000000000000000000000000000bb05612e7478740a746578742f706c61696e0a7b2278223a2279227d" +
		"1f050001016c070200000000000000000000000000000000000000000000000000"
	want := []objstore.Record{
		{
			Key: objstore.Key{Bucket: "b", ID: "k"}, Name: "a.txt", ContentType: "text/plain", UserMeta: []byte(`{"x":"y"}`),
			Level: objstore.LevelS3, Sum: objstore.Checksum{Size: 5, CRC32C: 0x01020304, MD5: objstore.MD5{0xaa, 15: 0xbb}},
			Version: objstore.Version{HLC: 300, Node: "n1"}, BodyVersion: objstore.Version{HLC: 200, Node: "n2"}, InRemote: true,
		},
		{
			Key: objstore.Key{Bucket: "b", ID: "l"}, Deleted: true,
			Version: objstore.Version{HLC: 7, Node: "n1"}, BodyVersion: objstore.Version{HLC: 7, Node: "n1"},
		},
	}
	b, err := hex.DecodeString(old)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRecords(b)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeRecords = %#v, %v; want %#v", got, err, want)
	}
	if again := encodeRecords(got); !bytes.Equal(again, b) {
		t.Fatalf("encodeRecords = %x; want %x", again, b)
	}
}

// TestHeadersEncoding pins the headers block and checks what the decoder
// refuses in it.
func TestHeadersEncoding(t *testing.T) {
	key := objstore.Key{Bucket: "b", ID: "i"}
	rec := objstore.Record{Key: key, Headers: map[string]string{"c": "2", "a": "1"}}
	plain := encodeRecords([]objstore.Record{{Key: key}})
	plain = plain[2 : len(plain)-1] // one record's bytes
	// Sorted by name; the names are new strings 3 and 4 of the table, after
	// the bucket and the empty node.
	block := []byte{2, 0, 1, 'a', 1, '1', 0, 1, 'c', 1, '2'}
	withBlock := func(flags byte, block ...byte) []byte {
		p := append([]byte{plain[0] | flags}, plain[1:]...)
		p = append(p, block...)
		b := binary.AppendUvarint([]byte{formatV1}, uint64(len(p)))
		return append(append(b, p...), 0)
	}
	if enc, want := encodeRecords([]objstore.Record{rec}), withBlock(flagHeaders, block...); !bytes.Equal(enc, want) {
		t.Fatalf("encoding %x, want %x", enc, want)
	}
	// A second record refers to the names through the string table.
	two := encodeRecords([]objstore.Record{rec, rec})
	if got, err := decodeRecords(two); err != nil || !reflect.DeepEqual(got, []objstore.Record{rec, rec}) {
		t.Fatalf("decodeRecords = %#v, %v", got, err)
	}
	cases := map[string][]byte{
		"flag without block": withBlock(flagHeaders),
		"empty block":        withBlock(flagHeaders, 0),
		"duplicate name":     withBlock(flagHeaders, 2, 0, 1, 'a', 1, '1', 0, 1, 'a', 1, '2'),
		"duplicate by ref":   withBlock(flagHeaders, 2, 0, 1, 'a', 1, '1', 3, 1, '2'),
		"names out of order": withBlock(flagHeaders, 2, 0, 1, 'c', 1, '2', 0, 1, 'a', 1, '1'),
		"count past end":     withBlock(flagHeaders, 3, 0, 1, 'a', 1, '1'),
		"huge count":         withBlock(flagHeaders, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		"bad name ref":       withBlock(flagHeaders, 1, 9, 1, '1'),
		"value cut":          withBlock(flagHeaders, 1, 0, 1, 'a', 2, '1'),
		"block without flag": withBlock(0, block...),
		"unknown flag":       withBlock(flagHeaders<<1, block...),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			recs, err := decodeRecords(b)
			if !errors.Is(err, ErrMalformed) || recs != nil {
				t.Fatalf("decodeRecords = %v, %v; want ErrMalformed", recs, err)
			}
			t.Log(err)
		})
	}
}

// TestStringTable checks that repeated buckets and nodes cost a reference.
func TestStringTable(t *testing.T) {
	node := strings.Repeat("N", 26)
	var recs []objstore.Record
	for i := range 100 {
		rec := testRecord(objstore.Key{Bucket: "bucket", ID: string(rune('a' + i%26))}, uint64(i+1), node)
		rec.BodyVersion.Node = node + "x"
		recs = append(recs, rec)
	}
	one, all := len(encodeRecords(recs[:1])), len(encodeRecords(recs))
	perRecord := (all - one) / 99
	if perRecord > 60 {
		t.Errorf("%d bytes per further record, want the bucket and nodes as references", perRecord)
	}
}

func TestDecodeRecordsRejects(t *testing.T) {
	good := encodeRecords([]objstore.Record{testRecord(objstore.Key{Bucket: "b", ID: "i"}, 7, "n")})
	body := good[2 : len(good)-1] // without format, length, end marker
	withBody := func(p []byte) []byte {
		b := binary.AppendUvarint([]byte{formatV1}, uint64(len(p)))
		return append(append(b, p...), 0)
	}
	patch := func(i int, c byte) []byte {
		p := bytes.Clone(body)
		p[i] = c
		return withBody(p)
	}
	cases := map[string][]byte{
		"empty":           nil,
		"format":          {2, 0},
		"no end":          good[:len(good)-1],
		"cut":             good[:len(good)/2],
		"trailing":        append(bytes.Clone(good), 0),
		"flags":           patch(0, 0x80),
		"level":           patch(1, 3),
		"string ref":      patch(2, 5),
		"length past end": binary.AppendUvarint([]byte{formatV1}, 1<<40),
		"huge length":     binary.AppendUvarint([]byte{formatV1}, maxRecordSize+1),
		"varint overflow": append([]byte{formatV1}, bytes.Repeat([]byte{0xff}, 11)...),
		"record trailing": withBody(append(bytes.Clone(body), 0)),
		"record short":    withBody(body[:len(body)-1]),
		"empty bucket":    withBody(append([]byte{flagSameBody, 0, 0, 0}, body[5:]...)),
		"empty id":        withBody(append([]byte{flagSameBody, 0, 0, 1, 'b', 0}, body[7:]...)),
		"nul in bucket":   withBody(append([]byte{flagSameBody, 0, 0, 1, 0, 1}, body[6:]...)),
	}
	if _, err := decodeRecords(good); err != nil {
		t.Fatalf("good input: %v", err)
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			recs, err := decodeRecords(b)
			if !errors.Is(err, ErrMalformed) || recs != nil {
				t.Fatalf("decodeRecords = %v, %v; want ErrMalformed", recs, err)
			}
			t.Log(err)
		})
	}
}

func TestDecodeList(t *testing.T) {
	list := func(xs ...uint64) []byte {
		b := binary.AppendUvarint([]byte{formatV1}, uint64(len(xs)))
		for _, x := range xs {
			b = binary.AppendUvarint(b, x)
		}
		return b
	}
	cases := map[string]struct {
		b    []byte
		want []uint8
	}{
		"ok":             {list(0, 7, 255), []uint8{0, 7, 255}},
		"empty":          {list(), nil},
		"no input":       {nil, nil},
		"format":         {[]byte{9, 1, 1}, nil},
		"group 256":      {list(1, 256), nil},
		"huge":           {list(1 << 62), nil},
		"not increasing": {list(3, 3), nil},
		"decreasing":     {list(4, 3), nil},
		"too many":       {binary.AppendUvarint([]byte{formatV1}, 257), nil},
		"short":          {list(1, 2, 3)[:4], nil},
		"trailing":       {append(list(1), 0), nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := decodeGroups(c.b)
			if c.want == nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("decodeGroups = %v, %v; want ErrMalformed", got, err)
				}
				t.Log(err)
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("decodeGroups = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestLeavesRequestRoundTrip(t *testing.T) {
	rec := testRecord(objstore.Key{Bucket: "b", ID: "i"}, 7, "n")
	leaf := objstore.LeafOf(rec.Key)
	leaves := []uint16{0, leaf, 65535}
	if leaf == 0 || leaf == 65535 {
		t.Skip("key falls in an edge leaf")
	}
	b := append(appendList(nil, leaves), encodeRecords([]objstore.Record{rec})...)
	req, err := decodeLeavesRequest(b)
	if err != nil || !reflect.DeepEqual(req.leaves, leaves) || !reflect.DeepEqual(req.records, []objstore.Record{rec}) {
		t.Fatalf("decodeLeavesRequest = %+v, %v", req, err)
	}
	other := append(appendList(nil, []uint16{leaf + 1}), encodeRecords([]objstore.Record{rec})...)
	if _, err := decodeLeavesRequest(other); !errors.Is(err, ErrMalformed) {
		t.Fatalf("record outside the leaves: err = %v, want ErrMalformed", err)
	}
}

func TestDigests(t *testing.T) {
	ds := []uint64{0, 1, 1 << 63, 0xdeadbeef}
	b := encodeDigests(ds)
	if len(b) != 32 || b[15] != 1 || b[16] != 0x80 {
		t.Fatalf("encoding % x", b)
	}
	got, err := decodeDigests(b, 4)
	if err != nil || !reflect.DeepEqual(got, ds) {
		t.Fatalf("decodeDigests = %v, %v", got, err)
	}
	if _, err := decodeDigests(b[:31], 4); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short: err = %v", err)
	}
}
