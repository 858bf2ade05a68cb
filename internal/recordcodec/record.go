package recordcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"sphere.software/objstore"
)

// Flag bits of an encoded record.
const (
	flagDeleted  = 1 << 0
	flagInRemote = 1 << 1
	// flagSameBody means BodyVersion equals Version and is not repeated.
	flagSameBody = 1 << 2
	// flagHeaders means a headers block ends the record: Headers is not
	// empty. Records written before headers existed never set it.
	flagHeaders = 1 << 3
	// flagLost marks a record whose body is lost (objstore.Record.Lost).
	// Records written before it existed never set it, so they read as
	// before; a node of an older version refuses a record that sets it.
	flagLost = 1 << 4
)

// flagsOf returns the flags byte of rec. A decoded record must give back
// the flags it was read with, which rejects unknown bits and a body
// version spelt out although it equals the version.
func flagsOf(rec objstore.Record) byte {
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
	if rec.Lost {
		flags |= flagLost
	}
	return flags
}

// appendBody appends every field of rec but its key. Strings that repeat
// (node IDs, header names) go through t; a nil t writes every string out,
// as format 1 did.
func appendBody(b []byte, rec objstore.Record, t *table) []byte {
	flags := flagsOf(rec)
	b = append(b, flags, byte(rec.Level))
	b = appendVersion(b, rec.Version, t)
	if flags&flagSameBody == 0 {
		b = appendVersion(b, rec.BodyVersion, t)
	}
	b = binary.AppendVarint(b, rec.Sum.Size)
	b = binary.BigEndian.AppendUint32(b, rec.Sum.CRC32C)
	b = append(b, rec.Sum.MD5[:]...)
	b = appendRaw(b, rec.Name)
	b = appendRaw(b, rec.ContentType)
	b = AppendBytes(b, rec.UserMeta)
	if flags&flagHeaders != 0 {
		b = appendHeaders(b, rec.Headers, t)
	}
	return b
}

// appendVersion appends the HLC as a uvarint and the node as a string.
func appendVersion(b []byte, v objstore.Version, t *table) []byte {
	b = binary.AppendUvarint(b, v.HLC)
	return appendString(b, v.Node, t)
}

// appendHeaders appends the headers block: a uvarint count, then each name
// as a string and its value length-prefixed, in increasing order of name.
func appendHeaders(b []byte, h map[string]string, t *table) []byte {
	b = binary.AppendUvarint(b, uint64(len(h)))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		b = appendString(b, name, t)
		b = appendRaw(b, h[name])
	}
	return b
}

// appendString appends a string reference: the position+1 of a string t
// already holds, or 0 and the string written out (which t then takes).
// With a nil t the string is written out without the 0.
func appendString(b []byte, s string, t *table) []byte {
	if t == nil {
		return appendRaw(b, s)
	}
	if i := t.lookup(s); i != 0 {
		return binary.AppendUvarint(b, i)
	}
	t.add(s)
	return appendRaw(binary.AppendUvarint(b, 0), s)
}

// appendRaw appends s with a uvarint length prefix.
func appendRaw(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// readRecord reads what appendBody wrote into a record of key, and checks
// it: on any error r fails and the record is zero. The record shares no
// memory with r's input.
func readRecord(r *Reader, t *table, key objstore.Key) objstore.Record {
	flags, level := r.Byte(), objstore.Level(r.Byte())
	rec := objstore.Record{Key: key, Level: level, Deleted: flags&flagDeleted != 0, InRemote: flags&flagInRemote != 0,
		Lost: flags&flagLost != 0}
	rec.Version = readVersion(r, t)
	rec.BodyVersion = rec.Version
	if flags&flagSameBody == 0 {
		rec.BodyVersion = readVersion(r, t)
	}
	rec.Sum.Size = r.Varint()
	rec.Sum.CRC32C = binary.BigEndian.Uint32(r.Fixed(4))
	copy(rec.Sum.MD5[:], r.Fixed(len(rec.Sum.MD5)))
	rec.Name = string(r.Bytes())
	rec.ContentType = string(r.Bytes())
	if meta := r.Bytes(); len(meta) > 0 {
		rec.UserMeta = append([]byte(nil), meta...)
	}
	if flags&flagHeaders != 0 {
		rec.Headers = readHeaders(r, t)
	}
	switch {
	case r.err != nil:
	case flags != flagsOf(rec):
		r.Fail(fmt.Errorf("%s: flags %#02x do not match the record", key, flags))
	default:
		if err := Check(rec); err != nil {
			r.Fail(err)
		}
	}
	if r.err != nil {
		return objstore.Record{}
	}
	return rec
}

func readVersion(r *Reader, t *table) objstore.Version {
	hlc := r.Uvarint()
	return objstore.Version{HLC: hlc, Node: readString(r, t)}
}

// readString reads what appendString wrote. A string written out that t
// already holds is refused: the encoder would have referred to it.
func readString(r *Reader, t *table) string {
	if t == nil {
		return string(r.Bytes())
	}
	i := r.Uvarint()
	switch {
	case r.err != nil:
		return ""
	case i > uint64(len(t.list)):
		r.Fail(fmt.Errorf("string %d of a table of %d", i, len(t.list)))
		return ""
	case i > 0:
		return t.list[i-1]
	}
	p := r.Bytes()
	if r.err != nil {
		return ""
	}
	s := string(p)
	if !t.full() && t.lookup(s) != 0 {
		r.Fail(fmt.Errorf("string %q written out again instead of referred to", s))
		return ""
	}
	t.add(s)
	return s
}

// readHeaders reads a headers block. It takes only the canonical form: at
// least one entry, names strictly increasing (so no name twice).
func readHeaders(r *Reader, t *table) map[string]string {
	n := r.Uvarint()
	switch {
	case r.err != nil:
		return nil
	case n == 0:
		r.Fail(errors.New("empty headers block"))
		return nil
	case n > uint64(len(r.b))/2: // each entry takes at least two bytes
		r.Fail(fmt.Errorf("%d headers: %w", n, errShort))
		return nil
	}
	h := make(map[string]string, n)
	prev := ""
	for i := range n {
		name := readString(r, t)
		value := string(r.Bytes())
		if r.err != nil {
			return nil
		}
		if i > 0 && name <= prev {
			r.Fail(fmt.Errorf("header %q after %q: names not strictly increasing", name, prev))
			return nil
		}
		h[name], prev = value, name
	}
	return h
}

// Check rejects a record that no journal would store: a level above
// objstore.MaxLevel or a key that CheckKey rejects. Every decoded record
// has passed it.
func Check(rec objstore.Record) error {
	if rec.Level > objstore.MaxLevel {
		return fmt.Errorf("%s: level %d: %w", rec.Key, rec.Level, objstore.ErrInvalidLevel)
	}
	return CheckKey(rec.Key)
}

// CheckKey rejects keys that name no object: an empty bucket or ID, or a
// bucket with a 0x00 byte (the journal's separator, never in an S3 bucket
// name). Errors wrap objstore.ErrInvalidKey.
func CheckKey(k objstore.Key) error {
	switch {
	case k.Bucket == "":
		return fmt.Errorf("empty bucket: %w", objstore.ErrInvalidKey)
	case k.ID == "":
		return fmt.Errorf("empty id in bucket %q: %w", k.Bucket, objstore.ErrInvalidKey)
	case strings.IndexByte(k.Bucket, 0) >= 0:
		return fmt.Errorf("bucket %q holds a 0x00 byte: %w", k.Bucket, objstore.ErrInvalidKey)
	}
	return nil
}
