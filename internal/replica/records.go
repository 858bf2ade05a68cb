package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"sphere.software/objstore"
)

// formatV1 is the format byte that starts every record stream and list.
const formatV1 = 1

// Flag bits of an encoded record.
const (
	flagDeleted  = 1 << 0
	flagInRemote = 1 << 1
	// flagSameBody means BodyVersion equals Version and is not repeated.
	flagSameBody = 1 << 2
	// flagHeaders means a headers block ends the record: Headers is not
	// empty.
	flagHeaders = 1 << 3
	knownFlags  = flagDeleted | flagInRemote | flagSameBody | flagHeaders
)

// maxRecordSize is the largest encoded record a stream may hold. The
// journal takes keys up to 32 KiB; a record is its key plus a few small
// fields, so this leaves room for every record a journal can hold.
const maxRecordSize = 1 << 20

// maxStrings is the most entries the string table of one stream takes.
const maxStrings = 1 << 16

// recordEncoder writes a record stream: the format byte, each record with
// its length, and (in bytes) the end marker.
type recordEncoder struct {
	buf     []byte
	scratch []byte            // one record, before its length is known
	table   map[string]uint64 // string → index+1 in the stream's table
	n       int               // records added
}

// newRecordEncoder starts a stream appended to prefix.
func newRecordEncoder(prefix []byte) *recordEncoder {
	return &recordEncoder{buf: append(prefix, formatV1), table: make(map[string]uint64)}
}

// add appends one record.
func (e *recordEncoder) add(rec objstore.Record) {
	b := e.scratch[:0]
	flags := recordFlags(rec)
	b = append(b, flags, byte(rec.Level))
	b = e.appendString(b, rec.Bucket)
	b = appendBytes(b, []byte(rec.ID))
	b = e.appendVersion(b, rec.Version)
	if flags&flagSameBody == 0 {
		b = e.appendVersion(b, rec.BodyVersion)
	}
	b = binary.AppendVarint(b, rec.Sum.Size)
	b = binary.BigEndian.AppendUint32(b, rec.Sum.CRC32C)
	b = append(b, rec.Sum.MD5[:]...)
	b = appendBytes(b, []byte(rec.Name))
	b = appendBytes(b, []byte(rec.ContentType))
	if rec.UserMeta == nil {
		b = binary.AppendUvarint(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(rec.UserMeta))+1)
		b = append(b, rec.UserMeta...)
	}
	if flags&flagHeaders != 0 {
		b = e.appendHeaders(b, rec.Headers)
	}
	e.buf = binary.AppendUvarint(e.buf, uint64(len(b)))
	e.buf = append(e.buf, b...)
	e.scratch = b
	e.n++
}

// len is the size of the stream so far, without its end marker.
func (e *recordEncoder) len() int { return len(e.buf) }

// bytes ends the stream and returns it. The encoder must not be used after.
func (e *recordEncoder) bytes() []byte { return binary.AppendUvarint(e.buf, 0) }

// recordFlags returns the flags byte of rec.
func recordFlags(rec objstore.Record) byte {
	var flags byte
	if rec.Deleted {
		flags |= flagDeleted
	}
	if rec.InRemote {
		flags |= flagInRemote
	}
	if rec.BodyVersion == rec.Version {
		flags |= flagSameBody
	}
	if len(rec.Headers) > 0 {
		flags |= flagHeaders
	}
	return flags
}

// appendString appends a string reference: the index+1 of a string the
// stream already holds, or 0 and the string itself.
func (e *recordEncoder) appendString(b []byte, s string) []byte {
	if i, ok := e.table[s]; ok {
		return binary.AppendUvarint(b, i)
	}
	if len(e.table) < maxStrings {
		e.table[s] = uint64(len(e.table)) + 1
	}
	b = binary.AppendUvarint(b, 0)
	return appendBytes(b, []byte(s))
}

// appendHeaders appends the headers block: a uvarint count, then each name
// as a string reference and its value length-prefixed, in increasing order
// of name.
func (e *recordEncoder) appendHeaders(b []byte, h map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(h)))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		b = e.appendString(b, name)
		b = appendBytes(b, []byte(h[name]))
	}
	return b
}

func (e *recordEncoder) appendVersion(b []byte, v objstore.Version) []byte {
	b = binary.AppendUvarint(b, v.HLC)
	return e.appendString(b, v.Node)
}

// appendBytes appends p with a uvarint length prefix.
func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// encodeRecords returns recs as a whole record stream.
func encodeRecords(recs []objstore.Record) []byte {
	e := newRecordEncoder(nil)
	for _, rec := range recs {
		e.add(rec)
	}
	return e.bytes()
}

// decodeRecords decodes a record stream that fills b exactly. The records
// share no memory with b.
func decodeRecords(b []byte) ([]objstore.Record, error) {
	recs, rest, err := decodeStream(b)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%w: %d bytes after the record stream", ErrMalformed, len(rest))
	}
	if err != nil {
		return nil, fmt.Errorf("replica: decode records: %w", err)
	}
	return recs, nil
}

// decodeStream decodes the record stream at the start of b and returns the
// records and the bytes after its end marker.
func decodeStream(b []byte) ([]objstore.Record, []byte, error) {
	if len(b) == 0 || b[0] != formatV1 {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, badFormat(b))
	}
	d := decoder{b: b[1:]}
	var (
		recs  []objstore.Record
		table []string
	)
	for {
		n := d.length(maxRecordSize)
		if d.err != nil || n == 0 {
			break
		}
		rec, err := decodeRecord(d.fixed(n), &table)
		if err != nil {
			return nil, nil, fmt.Errorf("record %d: %w", len(recs), err)
		}
		recs = append(recs, rec)
	}
	if d.err != nil {
		return nil, nil, fmt.Errorf("record %d: %w", len(recs), d.err)
	}
	return recs, d.b, nil
}

// badFormat describes input whose format byte this code does not know.
func badFormat(b []byte) error {
	if len(b) == 0 {
		return errors.New("empty input")
	}
	return fmt.Errorf("unknown format %d", b[0])
}

// decodeRecord decodes the bytes of one record, reading and extending the
// stream's string table.
func decodeRecord(b []byte, table *[]string) (objstore.Record, error) {
	d := decoder{b: b}
	flags, level := d.u8(), objstore.Level(d.u8())
	if flags&^knownFlags != 0 {
		d.fail(fmt.Errorf("unknown flags %#02x", flags))
	}
	rec := objstore.Record{Level: level, Deleted: flags&flagDeleted != 0, InRemote: flags&flagInRemote != 0}
	rec.Bucket = readString(&d, table)
	rec.ID = string(d.bytes())
	rec.Version = readVersion(&d, table)
	rec.BodyVersion = rec.Version
	if flags&flagSameBody == 0 {
		rec.BodyVersion = readVersion(&d, table)
	}
	rec.Sum.Size = d.varint()
	rec.Sum.CRC32C = binary.BigEndian.Uint32(d.fixed(4))
	copy(rec.Sum.MD5[:], d.fixed(len(rec.Sum.MD5)))
	rec.Name = string(d.bytes())
	rec.ContentType = string(d.bytes())
	if n := d.uvarint(); n > 0 {
		rec.UserMeta = append([]byte{}, d.fixed(d.remaining(n-1))...)
	}
	if flags&flagHeaders != 0 {
		rec.Headers = readHeaders(&d, table)
	}
	if err := d.finish(); err != nil {
		return objstore.Record{}, err
	}
	if err := checkRecord(rec); err != nil {
		return objstore.Record{}, fmt.Errorf("%w: %s: %w", ErrMalformed, rec.Key, err)
	}
	return rec, nil
}

// readString reads a string reference.
func readString(d *decoder, table *[]string) string {
	i := d.uvarint()
	if i > 0 {
		if i > uint64(len(*table)) {
			d.fail(fmt.Errorf("string %d of a table of %d", i, len(*table)))
			return ""
		}
		return (*table)[i-1]
	}
	s := string(d.bytes())
	if d.err == nil && len(*table) < maxStrings {
		*table = append(*table, s)
	}
	return s
}

// readHeaders reads a headers block: at least one entry, names strictly
// increasing (so none twice).
func readHeaders(d *decoder, table *[]string) map[string]string {
	n := d.uvarint()
	switch {
	case d.err != nil:
		return nil
	case n == 0:
		d.fail(errors.New("empty headers block"))
		return nil
	case n > uint64(len(d.b))/2: // each entry takes at least two bytes
		d.fail(fmt.Errorf("%d headers: %w", n, errShort))
		return nil
	}
	h := make(map[string]string, n)
	prev := ""
	for i := range n {
		name := readString(d, table)
		value := string(d.bytes())
		if d.err != nil {
			return nil
		}
		if i > 0 && name <= prev {
			d.fail(fmt.Errorf("header %q after %q: names not strictly increasing", name, prev))
			return nil
		}
		h[name], prev = value, name
	}
	return h
}

func readVersion(d *decoder, table *[]string) objstore.Version {
	hlc := d.uvarint()
	return objstore.Version{HLC: hlc, Node: readString(d, table)}
}

// checkRecord rejects records no journal would store.
func checkRecord(rec objstore.Record) error {
	if rec.Level > objstore.MaxLevel {
		return fmt.Errorf("level %d: %w", rec.Level, objstore.ErrInvalidLevel)
	}
	return checkKey(rec.Key)
}

// checkKey rejects keys that name no object.
func checkKey(k objstore.Key) error {
	switch {
	case k.Bucket == "":
		return fmt.Errorf("empty bucket: %w", objstore.ErrInvalidKey)
	case k.ID == "":
		return fmt.Errorf("empty id: %w", objstore.ErrInvalidKey)
	case strings.IndexByte(k.Bucket, 0) >= 0:
		return fmt.Errorf("bucket holds a 0x00 byte: %w", objstore.ErrInvalidKey)
	}
	return nil
}
