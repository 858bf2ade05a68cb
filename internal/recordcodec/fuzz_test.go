package recordcodec

import (
	"bytes"
	"reflect"
	"testing"

	"sphere.software/objstore"
)

// FuzzDecodeValue feeds the journal value decoder hostile bytes, as a
// corrupt journal could hold: it must return an error, never panic, and a
// value it accepts must be exactly what AppendValue writes for the record
// (format 2), or decode to the same record again (format 1).
func FuzzDecodeValue(f *testing.F) {
	for _, rec := range sampleRecords() {
		f.Add(AppendValue(nil, rec))
		f.Add(appendValueV1(nil, rec))
	}
	f.Add([]byte{})
	f.Add([]byte{Format, flagHeaders, 0, 0, 0, 0})
	key := objstore.Key{Bucket: "b", ID: "k"}
	f.Fuzz(func(t *testing.T, v []byte) {
		rec, err := DecodeValue(key, v)
		if err != nil {
			return
		}
		again := AppendValue(nil, rec)
		if v[0] == Format && !bytes.Equal(again, v) {
			t.Fatalf("decode then encode changed the value:\n%x\n%x", v, again)
		}
		if got, err := DecodeValue(key, again); err != nil || !reflect.DeepEqual(got, rec) {
			t.Fatalf("re-encoded value = %+v, %v; want %+v", got, err, rec)
		}
	})
}

// FuzzDecodeStream does the same for record streams, as a hostile peer
// could send them: whatever the decoder accepts encodes to the same bytes.
func FuzzDecodeStream(f *testing.F) {
	a := testRecord(objstore.Key{Bucket: "b", ID: "x/../y"}, 9, "node-a")
	b := a
	b.Deleted, b.BodyVersion, b.UserMeta = true, objstore.Version{HLC: 3, Node: "node-b"}, nil
	c := a
	c.Headers = map[string]string{"Cache-Control": "no-cache", "Expires": "Thu, 01 Jan 2037 00:00:00 GMT"}
	d := b
	d.Headers = map[string]string{"Cache-Control": "max-age=5", "Content-Language": "de"}
	f.Add(EncodeStream(nil))
	f.Add(EncodeStream([]objstore.Record{a}))
	f.Add(EncodeStream([]objstore.Record{a, b, a}))
	f.Add(EncodeStream([]objstore.Record{c, d, a}))
	f.Add(EncodeStream(sampleRecords()))
	f.Add([]byte{Format, 3, 0, 0, 0})
	f.Add([]byte{Format, 5, 0, 1, 'b', 1, 'i', flagHeaders})
	f.Fuzz(func(t *testing.T, in []byte) {
		recs, rest, err := DecodeStream(in)
		if err != nil {
			return
		}
		again := EncodeStream(recs)
		if !bytes.Equal(again, in[:len(in)-len(rest)]) {
			t.Fatalf("decode then encode changed the stream:\n%x\n%x", in[:len(in)-len(rest)], again)
		}
	})
}
