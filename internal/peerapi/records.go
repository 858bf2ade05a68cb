package peerapi

import (
	"fmt"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/recordcodec"
)

// Records cross the wire as recordcodec streams: the one record encoding,
// shared with the journal, so a record a peer sends is checked exactly as
// one read from disk. See the package doc, "Wire format".

// encodeRecords returns recs as a whole record stream.
func encodeRecords(recs []objstore.Record) []byte { return recordcodec.EncodeStream(recs) }

// decodeRecords decodes a record stream that fills b exactly. The records
// share no memory with b. Errors wrap ErrMalformed.
func decodeRecords(b []byte) ([]objstore.Record, error) {
	recs, rest, err := recordcodec.DecodeStream(b)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%d bytes after the record stream", len(rest))
	}
	if err != nil {
		return nil, fmt.Errorf("peerapi: decode records: %w: %w", ErrMalformed, err)
	}
	return recs, nil
}
