package recordcodec

import (
	"encoding/binary"
	"fmt"

	"sphere.software/objstore"
)

// MaxRecordSize is the largest encoded record a stream may hold. The
// journal takes keys up to 32 KiB; a record is its key plus a few small
// fields, so this leaves room for every record an API can write under
// the default header limits.
const MaxRecordSize = 1 << 20

// Encoder writes a record stream: the format byte, each record with its
// length, and (in Bytes) the end marker. A string table lives for the
// whole stream, so buckets, node IDs and header names cost a byte or two
// after their first use.
type Encoder struct {
	buf     []byte
	scratch []byte // one record, before its length is known
	t       table
	n       int // records added
}

// NewEncoder starts a stream appended to prefix.
func NewEncoder(prefix []byte) *Encoder {
	return &Encoder{buf: append(prefix, Format)}
}

// Add appends one record: its bucket as a string, its ID, then the fields
// AppendValue writes after the format byte.
func (e *Encoder) Add(rec objstore.Record) {
	b := appendString(e.scratch[:0], rec.Bucket, &e.t)
	b = appendRaw(b, rec.ID)
	b = appendBody(b, rec, &e.t)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(b)))
	e.buf = append(e.buf, b...)
	e.scratch = b
	e.n++
}

// Len is the size of the stream so far, without its end marker.
func (e *Encoder) Len() int { return len(e.buf) }

// Count is the number of records added.
func (e *Encoder) Count() int { return e.n }

// Bytes ends the stream and returns it. The Encoder must not be used after.
func (e *Encoder) Bytes() []byte { return binary.AppendUvarint(e.buf, 0) }

// EncodeStream returns recs as a whole record stream.
func EncodeStream(recs []objstore.Record) []byte {
	e := NewEncoder(nil)
	for _, rec := range recs {
		e.Add(rec)
	}
	return e.Bytes()
}

// DecodeStream decodes the record stream at the start of b and returns its
// records, which share no memory with b, and the bytes after its end
// marker. Errors wrap ErrMalformed.
func DecodeStream(b []byte) ([]objstore.Record, []byte, error) {
	r := Reader{b: b}
	if f := r.Byte(); r.err == nil && f != Format {
		r.Fail(fmt.Errorf("unknown stream format %d (want %d): a peer of another version?", f, Format))
	}
	var (
		recs []objstore.Record
		t    table
	)
	for r.err == nil {
		n := r.Len(MaxRecordSize)
		if r.err != nil || n == 0 {
			break
		}
		rr := Reader{b: r.Fixed(n)}
		key := objstore.Key{Bucket: readString(&rr, &t)}
		key.ID = string(rr.Bytes())
		rec := readRecord(&rr, &t, key)
		if err := rr.Finish(); err != nil {
			return nil, nil, fmt.Errorf("record %d: %w", len(recs), err)
		}
		recs = append(recs, rec)
	}
	if r.err != nil {
		return nil, nil, fmt.Errorf("record %d: %w", len(recs), r.err)
	}
	return recs, r.b, nil
}
