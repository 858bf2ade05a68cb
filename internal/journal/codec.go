package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"sphere.software/objstore"
)

// formatV1 is the version byte that starts every value written by this code.
const formatV1 = 1

// Flag bits of an encoded record.
const (
	flagDeleted  = 1 << 0
	flagInRemote = 1 << 1
	// flagSameBody means BodyVersion equals Version and is not repeated.
	flagSameBody = 1 << 2
	// flagHeaders means a headers block ends the value: Record.Headers is
	// not empty. Values written before headers existed never set it.
	flagHeaders = 1 << 3
)

// errShort is returned by the decoder when a value ends early.
var errShort = errors.New("value truncated")

// encodeRecord encodes rec without its key (the bbolt key holds it).
func encodeRecord(rec objstore.Record) []byte {
	b := make([]byte, 0, 64+2*len(rec.Version.Node)+len(rec.Name)+len(rec.ContentType)+len(rec.UserMeta))
	flags := recordFlags(rec)
	b = append(b, formatV1, flags, byte(rec.Level))
	b = appendVersion(b, rec.Version)
	if flags&flagSameBody == 0 {
		b = appendVersion(b, rec.BodyVersion)
	}
	b = binary.AppendVarint(b, rec.Sum.Size)
	b = binary.BigEndian.AppendUint32(b, rec.Sum.CRC32C)
	b = append(b, rec.Sum.MD5[:]...)
	b = appendBytes(b, []byte(rec.Name))
	b = appendBytes(b, []byte(rec.ContentType))
	b = appendBytes(b, rec.UserMeta)
	if flags&flagHeaders != 0 {
		b = appendHeaders(b, rec.Headers)
	}
	return b
}

// appendHeaders appends the headers block: a uvarint count, then each name
// and value length-prefixed, in increasing order of name.
func appendHeaders(b []byte, h map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(h)))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		b = appendBytes(b, []byte(name))
		b = appendBytes(b, []byte(h[name]))
	}
	return b
}

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

// appendVersion appends the HLC as a uvarint and the node length-prefixed.
func appendVersion(b []byte, v objstore.Version) []byte {
	b = binary.AppendUvarint(b, v.HLC)
	return appendBytes(b, []byte(v.Node))
}

// appendBytes appends p with a uvarint length prefix.
func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// decodeRecord decodes a value stored under key k. It copies everything it
// keeps, so v may be memory owned by a bbolt transaction.
func decodeRecord(k objstore.Key, v []byte) (objstore.Record, error) {
	if len(v) == 0 || v[0] != formatV1 {
		return objstore.Record{}, fmt.Errorf("decode record %s: %w", k, badVersion(v))
	}
	d := decoder{b: v[1:]}
	flags, level := d.u8(), objstore.Level(d.u8())
	rec := objstore.Record{Key: k, Level: level}
	rec.Deleted, rec.InRemote = flags&flagDeleted != 0, flags&flagInRemote != 0
	rec.Version = d.version()
	rec.BodyVersion = rec.Version
	if flags&flagSameBody == 0 {
		rec.BodyVersion = d.version()
	}
	rec.Sum.Size = d.varint()
	rec.Sum.CRC32C = binary.BigEndian.Uint32(d.fixed(4))
	copy(rec.Sum.MD5[:], d.fixed(len(rec.Sum.MD5)))
	rec.Name = string(d.bytes())
	rec.ContentType = string(d.bytes())
	if meta := d.bytes(); len(meta) > 0 {
		rec.UserMeta = append([]byte(nil), meta...)
	}
	if flags&flagHeaders != 0 {
		rec.Headers = d.headers()
	}
	err := d.finish()
	switch {
	case err != nil:
	case flags != recordFlags(rec):
		err = fmt.Errorf("flags %#02x do not match the record", flags)
	case level > objstore.MaxLevel:
		err = fmt.Errorf("level %d: %w", level, objstore.ErrInvalidLevel)
	}
	if err != nil {
		return objstore.Record{}, fmt.Errorf("decode record %s: %w", k, err)
	}
	return rec, nil
}

// badVersion describes a value whose version byte this code does not know.
func badVersion(v []byte) error {
	if len(v) == 0 {
		return errors.New("empty value")
	}
	return fmt.Errorf("unknown value format %d", v[0])
}

// encodeCounts encodes the counts value of the meta bucket.
func encodeCounts(c objstore.Counts) []byte {
	b := []byte{formatV1}
	b = binary.AppendVarint(b, c.Objects)
	b = binary.AppendVarint(b, c.Bytes)
	return binary.AppendVarint(b, c.Tombstones)
}

// decodeCounts decodes the counts value; nil (never written) is all zeros.
func decodeCounts(v []byte) (objstore.Counts, error) {
	if v == nil {
		return objstore.Counts{}, nil
	}
	if len(v) == 0 || v[0] != formatV1 {
		return objstore.Counts{}, fmt.Errorf("decode counts: %w", badVersion(v))
	}
	d := decoder{b: v[1:]}
	c := objstore.Counts{Objects: d.varint(), Bytes: d.varint(), Tombstones: d.varint()}
	if err := d.finish(); err != nil {
		return objstore.Counts{}, fmt.Errorf("decode counts: %w", err)
	}
	return c, nil
}

// decoder reads fields from b, accepting only the canonical encoding. The
// first error sticks: later reads return zero values, and finish reports it,
// or trailing bytes.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

// fixed returns the next n bytes (zeros on error), not copied.
func (d *decoder) fixed(n int) []byte {
	if len(d.b) < n {
		d.fail(errShort)
		return make([]byte, n)
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8() byte { return d.fixed(1)[0] }

func (d *decoder) uvarint() uint64 {
	x, n := binary.Uvarint(d.b)
	if err := varintErr(d.b, n); err != nil {
		d.fail(err)
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) varint() int64 {
	x, n := binary.Varint(d.b)
	if err := varintErr(d.b, n); err != nil {
		d.fail(err)
		return 0
	}
	d.b = d.b[n:]
	return x
}

// varintErr checks the n that binary.Uvarint or binary.Varint returned for
// b. It also rejects overlong encodings (a last byte of zero), so that each
// record has exactly one encoding and equal bytes mean equal records.
func varintErr(b []byte, n int) error {
	switch {
	case n == 0:
		return fmt.Errorf("varint: %w", errShort)
	case n < 0:
		return errors.New("varint overflows 64 bits")
	case n > 1 && b[n-1] == 0:
		return errors.New("overlong varint")
	}
	return nil
}

// version reads a Version written by appendVersion.
func (d *decoder) version() objstore.Version {
	hlc := d.uvarint()
	return objstore.Version{HLC: hlc, Node: string(d.bytes())}
}

// headers reads a block written by appendHeaders. It takes only the
// canonical form: at least one entry, names strictly increasing (so no
// name twice).
func (d *decoder) headers() map[string]string {
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
		name, value := string(d.bytes()), string(d.bytes())
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

// bytes reads a length-prefixed field, not copied.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(fmt.Errorf("field of %d bytes: %w", n, errShort))
		return nil
	}
	return d.fixed(int(n))
}

func (d *decoder) finish() error {
	if d.err == nil && len(d.b) > 0 {
		return fmt.Errorf("%d trailing bytes", len(d.b))
	}
	return d.err
}
