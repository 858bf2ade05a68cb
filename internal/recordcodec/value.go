package recordcodec

import (
	"fmt"

	"sphere.software/objstore"
)

// Format is the format byte that starts every journal value and every
// record stream this code writes: records with string references.
const Format = 2

// formatV1 is the journal value format before the journal and the peer
// streams shared one encoding: the same fields with every string written
// out. It is read, never written.
const formatV1 = 1

// AppendValue appends the journal value of rec: the format byte and the
// record without its key (the journal's own key holds it). Equal records
// give equal bytes.
func AppendValue(b []byte, rec objstore.Record) []byte {
	var t table
	return appendBody(append(b, Format), rec, &t)
}

// DecodeValue decodes a journal value of either format stored under key.
// It accepts only what AppendValue (or, for format 1, the journal before
// it) wrote, and copies everything it keeps, so v may be memory owned by a
// database transaction.
func DecodeValue(key objstore.Key, v []byte) (objstore.Record, error) {
	r := Reader{b: v}
	var t *table
	switch f := r.Byte(); {
	case r.err != nil:
	case f == Format:
		t = new(table)
	case f != formatV1:
		r.Fail(fmt.Errorf("unknown value format %d (want %d or %d)", f, formatV1, Format))
	}
	rec := readRecord(&r, t, key)
	if err := r.Finish(); err != nil {
		return objstore.Record{}, fmt.Errorf("decode record %s: %w", key, err)
	}
	return rec, nil
}
