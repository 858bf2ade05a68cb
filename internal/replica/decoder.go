package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errShort is the cause of a decode error when the input ends early.
var errShort = errors.New("input truncated")

// decoder reads fields from b. The first error sticks: later reads return
// zero values and err reports it, wrapping ErrMalformed.
type decoder struct {
	b   []byte
	err error
}

// fail records the first error and stops reading.
func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	d.b = nil
}

// fixed returns the next n bytes, not copied; zeros on error.
func (d *decoder) fixed(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail(errShort)
		return make([]byte, max(n, 0))
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8() byte { return d.fixed(1)[0] }

func (d *decoder) uvarint() uint64 {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(varintErr(n))
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) varint() int64 {
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(varintErr(n))
		return 0
	}
	d.b = d.b[n:]
	return x
}

// varintErr describes the n <= 0 that binary.Uvarint or binary.Varint returned.
func varintErr(n int) error {
	if n == 0 {
		return fmt.Errorf("varint: %w", errShort)
	}
	return errors.New("varint overflows 64 bits")
}

// length reads a uvarint that counts bytes still to come, and checks it
// against the input left and limit.
func (d *decoder) length(limit uint64) int {
	n := d.uvarint()
	switch {
	case d.err != nil:
		return 0
	case n > limit:
		d.fail(fmt.Errorf("length %d over the limit of %d", n, limit))
		return 0
	}
	return d.remaining(n)
}

// remaining checks that n bytes are left and returns n as an int.
func (d *decoder) remaining(n uint64) int {
	if n > uint64(len(d.b)) {
		d.fail(fmt.Errorf("length %d: %w", n, errShort))
		return 0
	}
	return int(n)
}

// bytes reads a uvarint length and that many bytes, not copied.
func (d *decoder) bytes() []byte { return d.fixed(d.length(maxRecordSize)) }

// finish reports the first error, or bytes left over.
func (d *decoder) finish() error {
	if d.err == nil && len(d.b) > 0 {
		d.fail(fmt.Errorf("%d trailing bytes", len(d.b)))
	}
	return d.err
}
