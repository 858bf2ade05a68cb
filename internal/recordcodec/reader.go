package recordcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformed is the cause of every decode error of this package: input
// that is truncated, not in the canonical encoding, or not a valid record.
var ErrMalformed = errors.New("malformed record encoding")

// errShort is the cause of a decode error when the input ends early.
var errShort = errors.New("input truncated")

// Reader reads the primitive fields of the encoding from a byte slice,
// accepting only their canonical form. The first error sticks: later reads
// return zero values, and Err and Finish report it, wrapping ErrMalformed.
// A Reader never panics, whatever its input.
type Reader struct {
	b   []byte
	err error
}

// NewReader returns a Reader of b. The slices it returns alias b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Fail records err as the Reader's error unless it has one, and stops
// reading.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	r.b = nil
}

// Err is the first error, or nil.
func (r *Reader) Err() error { return r.err }

// Rest is the input not read yet (nil after an error).
func (r *Reader) Rest() []byte { return r.b }

// Fixed returns the next n bytes, not copied; zeros on error.
func (r *Reader) Fixed(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.Fail(errShort)
		return make([]byte, max(n, 0))
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

// Byte reads one byte.
func (r *Reader) Byte() byte { return r.Fixed(1)[0] }

// Uvarint reads a uvarint in its shortest form.
func (r *Reader) Uvarint() uint64 {
	x, n := binary.Uvarint(r.b)
	if err := varintErr(r.b, n); err != nil {
		r.Fail(err)
		return 0
	}
	r.b = r.b[n:]
	return x
}

// Varint reads a zig-zag varint in its shortest form.
func (r *Reader) Varint() int64 {
	x, n := binary.Varint(r.b)
	if err := varintErr(r.b, n); err != nil {
		r.Fail(err)
		return 0
	}
	r.b = r.b[n:]
	return x
}

// varintErr checks the n that binary.Uvarint or binary.Varint returned for
// b. It also rejects overlong encodings (a last byte of zero), so that a
// value has exactly one encoding and equal bytes mean equal records.
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

// Len reads a uvarint that counts bytes still to come, checks it against
// limit and the input left, and returns it as an int.
func (r *Reader) Len(limit uint64) int {
	n := r.Uvarint()
	switch {
	case r.err != nil:
		return 0
	case n > limit:
		r.Fail(fmt.Errorf("length %d over the limit of %d", n, limit))
		return 0
	case n > uint64(len(r.b)):
		r.Fail(fmt.Errorf("length %d: %w", n, errShort))
		return 0
	}
	return int(n)
}

// Bytes reads a uvarint length and that many bytes, not copied.
func (r *Reader) Bytes() []byte { return r.Fixed(r.Len(uint64(len(r.b)))) }

// Finish reports the first error, or bytes left over.
func (r *Reader) Finish() error {
	if r.err == nil && len(r.b) > 0 {
		r.Fail(fmt.Errorf("%d trailing bytes", len(r.b)))
	}
	return r.err
}

// AppendBytes appends p with a uvarint length prefix, as Reader.Bytes reads
// it.
func AppendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}
