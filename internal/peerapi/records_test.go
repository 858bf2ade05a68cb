package peerapi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"sphere.software/objstore"
)

// TestDecodeRecords checks the private API's side of the record stream: a
// stream that fills the body decodes, and everything else is ErrMalformed
// (the codec's own checks are tested in recordcodec).
func TestDecodeRecords(t *testing.T) {
	recs := []objstore.Record{testRecord(objstore.Key{Bucket: "b", ID: "i"}, 7, "n")}
	good := encodeRecords(recs)
	if got, err := decodeRecords(good); err != nil || !reflect.DeepEqual(got, recs) {
		t.Fatalf("decodeRecords = %v, %v; want %v", got, err, recs)
	}
	cases := map[string][]byte{
		"empty":            nil,
		"trailing":         append(bytes.Clone(good), 0),
		"old peer":         append([]byte{1}, good[1:]...),
		"cut":              good[:len(good)-1],
		"unknown flag set": append(bytes.Clone(good[:7]), append([]byte{good[7] | 0x80}, good[8:]...)...),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := decodeRecords(b)
			if !errors.Is(err, ErrMalformed) || got != nil {
				t.Fatalf("decodeRecords = %v, %v; want ErrMalformed", got, err)
			}
			t.Log(err)
		})
	}
}

func TestDecodeList(t *testing.T) {
	list := func(xs ...uint64) []byte {
		b := binary.AppendUvarint([]byte{listFormat}, uint64(len(xs)))
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
		"too many":       {binary.AppendUvarint([]byte{listFormat}, 257), nil},
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
