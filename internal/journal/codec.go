package journal

import (
	"encoding/binary"
	"fmt"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/recordcodec"
)

// Record values are encoded by recordcodec, the one record encoding that
// the journal shares with the peer streams: recordcodec.AppendValue and
// recordcodec.DecodeValue. This file holds what only the journal stores.

// countsFormat is the format byte of the counts value.
const countsFormat = 1

// encodeRecord encodes rec without its key (the bbolt key holds it).
func encodeRecord(rec objstore.Record) []byte { return recordcodec.AppendValue(nil, rec) }

// decodeRecord decodes a value stored under key k, of any value format the
// journal has written. It copies everything it keeps, so v may be memory
// owned by a bbolt transaction.
func decodeRecord(k objstore.Key, v []byte) (objstore.Record, error) {
	return recordcodec.DecodeValue(k, v)
}

// encodeCounts encodes the counts value of the meta bucket.
func encodeCounts(c objstore.Counts) []byte {
	b := []byte{countsFormat}
	b = binary.AppendVarint(b, c.Objects)
	b = binary.AppendVarint(b, c.Bytes)
	return binary.AppendVarint(b, c.Tombstones)
}

// decodeCounts decodes the counts value; nil (never written) is all zeros.
func decodeCounts(v []byte) (objstore.Counts, error) {
	if v == nil {
		return objstore.Counts{}, nil
	}
	r := recordcodec.NewReader(v)
	if f := r.Byte(); r.Err() == nil && f != countsFormat {
		r.Fail(fmt.Errorf("unknown counts format %d", f))
	}
	c := objstore.Counts{Objects: r.Varint(), Bytes: r.Varint(), Tombstones: r.Varint()}
	if err := r.Finish(); err != nil {
		return objstore.Counts{}, fmt.Errorf("decode counts: %w", err)
	}
	return c, nil
}
