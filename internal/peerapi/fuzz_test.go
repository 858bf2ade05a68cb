package peerapi

import (
	"testing"

	"sphere.software/objstore"
)

// FuzzDecodeLeavesRequest feeds the leaves request decoder hostile input:
// it must never panic, and whatever it accepts must be a valid request.
// The record stream inside it is fuzzed in recordcodec (FuzzDecodeStream).
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
