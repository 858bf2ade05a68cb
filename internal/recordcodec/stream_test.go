package recordcodec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"sphere.software/objstore"
)

// testRecord is a live record of key at hlc written by node.
func testRecord(key objstore.Key, hlc uint64, node string) objstore.Record {
	v := objstore.Version{HLC: hlc, Node: node}
	return objstore.Record{
		Key: key, Name: "f.txt", ContentType: "text/plain", UserMeta: []byte(`{"a":"b"}`), Level: objstore.LevelS3,
		Sum:     objstore.Checksum{Size: 42, CRC32C: 0xdeadbeef, MD5: objstore.MD5{1, 2, 3}},
		Version: v, BodyVersion: v, InRemote: true,
	}
}

// TestStreamRoundTripRandom round-trips records whose every field holds
// random hostile bytes.
func TestStreamRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var rec objstore.Record
		fillRandom(t, rng, reflect.ValueOf(&rec).Elem(), "Record")
		if i%2 == 0 {
			rec.BodyVersion = rec.Version // the short form
		}
		recs := []objstore.Record{rec, rec}
		got, err := decodeWhole(EncodeStream(recs))
		if err != nil || !reflect.DeepEqual(got, recs) {
			t.Fatalf("round trip = %#v, %v\nwant %#v", got, err, recs)
		}
	}
}

// fillRandom sets every field reachable from v to a random non-zero value
// that the codec accepts.
func fillRandom(t *testing.T, rng *rand.Rand, v reflect.Value, path string) {
	t.Helper()
	if v.Type() == reflect.TypeFor[objstore.Level]() {
		v.SetUint(1 + rng.Uint64N(uint64(objstore.MaxLevel)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fillRandom(t, rng, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Array:
		for i := range v.Len() {
			fillRandom(t, rng, v.Index(i), path)
		}
	case reflect.String:
		v.SetString(randomString(rng))
	case reflect.Map:
		h := map[string]string{}
		for range 1 + rng.IntN(3) {
			h[randomString(rng)] = randomString(rng)
		}
		v.Set(reflect.ValueOf(h))
	case reflect.Slice:
		v.SetBytes([]byte(randomString(rng)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1 + rng.Uint64N(1<<(v.Type().Bits()-1)))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(1 + rng.Int64N(1<<(v.Type().Bits()-2)))
	default:
		t.Fatalf("%s: kind %s: teach fillRandom and the codec", path, v.Kind())
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

// TestStreamRoundTripProperty round-trips arbitrary batches, zero fields
// included. Empty user meta and headers are "none": nil.
func TestStreamRoundTripProperty(t *testing.T) {
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
				recs[i].Headers = nil
			}
			if len(recs[i].UserMeta) == 0 {
				recs[i].UserMeta = nil
			}
		}
		got, err := decodeWhole(EncodeStream(recs))
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

// TestStreamStringTable checks that repeated buckets and nodes cost a
// reference.
func TestStreamStringTable(t *testing.T) {
	node := strings.Repeat("N", 26)
	var recs []objstore.Record
	for i := range 100 {
		rec := testRecord(objstore.Key{Bucket: "bucket", ID: string(rune('a' + i%26))}, uint64(i+1), node)
		rec.BodyVersion.Node = node + "x"
		recs = append(recs, rec)
	}
	one, all := len(EncodeStream(recs[:1])), len(EncodeStream(recs))
	if perRecord := (all - one) / 99; perRecord > 60 {
		t.Errorf("%d bytes per further record, want the bucket and nodes as references", perRecord)
	}
	// With no reference inside it, a record's fields after its key are
	// the same in a stream and in a journal value.
	stream := EncodeStream(recs[:1])
	key := []byte{0, 6, 'b', 'u', 'c', 'k', 'e', 't', 1, 'a'}
	fields := AppendValue(nil, recs[0])[1:]
	want := binary.AppendUvarint([]byte{Format}, uint64(len(key)+len(fields)))
	want = append(append(append(want, key...), fields...), 0)
	if !bytes.Equal(stream, want) {
		t.Fatalf("stream\n %x, want\n %x", stream, want)
	}
}

func TestDecodeStreamRejects(t *testing.T) {
	good := EncodeStream([]objstore.Record{testRecord(objstore.Key{Bucket: "b", ID: "i"}, 7, "n")})
	body := good[2 : len(good)-1] // without format, length, end marker
	withBody := func(p []byte) []byte {
		b := binary.AppendUvarint([]byte{Format}, uint64(len(p)))
		return append(append(b, p...), 0)
	}
	patch := func(i int, c byte) []byte {
		p := bytes.Clone(body)
		p[i] = c
		return withBody(p)
	}
	// body: bucket ref (0, 1, 'b'), id (1, 'i'), flags, level, ...
	cases := map[string][]byte{
		"empty":           nil,
		"format 1":        append([]byte{1}, good[1:]...),
		"no end":          good[:len(good)-1],
		"cut":             good[:len(good)/2],
		"flags":           patch(5, 0x80),
		"level":           patch(6, 3),
		"string ref":      patch(0, 5),
		"length past end": binary.AppendUvarint([]byte{Format}, 1<<40),
		"huge length":     binary.AppendUvarint([]byte{Format}, MaxRecordSize+1),
		"varint overflow": append([]byte{Format}, bytes.Repeat([]byte{0xff}, 11)...),
		"overlong length": append([]byte{Format, 0x80 | byte(len(body)), 0}, append(bytes.Clone(body), 0)...),
		"record trailing": withBody(append(bytes.Clone(body), 0)),
		"record short":    withBody(body[:len(body)-1]),
		"empty bucket":    withBody(append([]byte{0, 0}, body[3:]...)),
		"empty id":        withBody(append([]byte{0, 1, 'b', 0}, body[5:]...)),
		"nul in bucket":   withBody(append([]byte{0, 1, 0}, body[3:]...)),
	}
	if _, err := decodeWhole(good); err != nil {
		t.Fatalf("good input: %v", err)
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			recs, err := decodeWhole(b)
			if !errors.Is(err, ErrMalformed) || recs != nil {
				t.Fatalf("decode = %v, %v; want ErrMalformed", recs, err)
			}
			t.Log(err)
		})
	}
}

// TestDecodeStreamRest checks that a stream may be followed by other
// bytes, which DecodeStream hands back.
func TestDecodeStreamRest(t *testing.T) {
	recs := []objstore.Record{testRecord(objstore.Key{Bucket: "b", ID: "i"}, 7, "n")}
	got, rest, err := DecodeStream(append(EncodeStream(recs), 'x', 'y'))
	if err != nil || !reflect.DeepEqual(got, recs) || string(rest) != "xy" {
		t.Fatalf("DecodeStream = %v, %q, %v", got, rest, err)
	}
}
