package replica

import (
	"reflect"
	"testing"

	"sphere.software/objstore"
)

// FuzzDecodeRecords feeds the record decoder hostile input: it must never
// panic, and whatever it accepts must survive a round trip.
func FuzzDecodeRecords(f *testing.F) {
	a := testRecord(objstore.Key{Bucket: "b", ID: "x/../y"}, 9, "node-a")
	b := a
	b.Deleted, b.BodyVersion, b.UserMeta = true, objstore.Version{HLC: 3, Node: "node-b"}, nil
	f.Add(encodeRecords(nil))
	f.Add(encodeRecords([]objstore.Record{a}))
	f.Add(encodeRecords([]objstore.Record{a, b, a}))
	c := a
	c.Headers = map[string]string{"Cache-Control": "no-cache", "Expires": "Thu, 01 Jan 2037 00:00:00 GMT"}
	d := b
	d.Headers = map[string]string{"Cache-Control": "max-age=5", "Content-Language": "de"}
	f.Add(encodeRecords([]objstore.Record{c, d, a}))
	f.Add([]byte{formatV1, 3, 0, 0, 0})
	f.Add([]byte{formatV1, 5, flagHeaders, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		recs, err := decodeRecords(in)
		if err != nil {
			return
		}
		again, err := decodeRecords(encodeRecords(recs))
		if err != nil {
			t.Fatalf("re-encoded records do not decode: %v", err)
		}
		if !reflect.DeepEqual(again, recs) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", again, recs)
		}
	})
}

// FuzzDecodeLeavesRequest does the same for the leaves request envelope.
func FuzzDecodeLeavesRequest(f *testing.F) {
	rec := testRecord(objstore.Key{Bucket: "b", ID: "i"}, 7, "n")
	f.Add(append(appendList(nil, []uint16{objstore.LeafOf(rec.Key)}), encodeRecords([]objstore.Record{rec})...))
	f.Add(appendList(nil, []uint8{1, 2}))
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := decodeLeavesRequest(in)
		if err != nil {
			return
		}
		if len(req.leaves) == 0 || len(req.leaves) > maxLeavesPerRequest {
			t.Fatalf("%d leaves accepted", len(req.leaves))
		}
		if err := checkLeaves(req.records, req.leaves); err != nil {
			t.Fatal(err)
		}
	})
}
