package peerapi

import (
	"encoding/binary"
	"fmt"
	"slices"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/recordcodec"
)

// listFormat is the format byte that starts every list.
const listFormat = 1

// appendList appends a list of numbers in strictly increasing order: the
// format byte, a uvarint count and the numbers as uvarints.
func appendList[T uint8 | uint16](b []byte, xs []T) []byte {
	b = append(b, listFormat)
	b = binary.AppendUvarint(b, uint64(len(xs)))
	for _, x := range xs {
		b = binary.AppendUvarint(b, uint64(x))
	}
	return b
}

// decodeList decodes a list at the start of b of 1 to maxLen numbers,
// strictly increasing and each below limit, and returns it with the bytes
// after it.
func decodeList(b []byte, maxLen int, limit uint64) ([]uint64, []byte, error) {
	r := recordcodec.NewReader(b)
	if f := r.Byte(); r.Err() == nil && f != listFormat {
		r.Fail(fmt.Errorf("unknown list format %d (want %d)", f, listFormat))
	}
	n := r.Uvarint()
	if r.Err() == nil && (n == 0 || n > uint64(maxLen)) {
		r.Fail(fmt.Errorf("list of %d numbers (want 1 to %d)", n, maxLen))
	}
	var xs []uint64
	for i := uint64(0); r.Err() == nil && i < n; i++ {
		x := r.Uvarint()
		switch {
		case r.Err() != nil:
		case x >= limit:
			r.Fail(fmt.Errorf("number %d out of range 0..%d", x, limit-1))
		case len(xs) > 0 && x <= xs[len(xs)-1]:
			r.Fail(fmt.Errorf("number %d after %d: not increasing", x, xs[len(xs)-1]))
		}
		xs = append(xs, x)
	}
	if err := r.Err(); err != nil {
		return nil, nil, fmt.Errorf("%w: list: %w", ErrMalformed, err)
	}
	return xs, r.Rest(), nil
}

// decodeGroups decodes a leaf digests request: a list of groups filling b.
func decodeGroups(b []byte) ([]uint8, error) {
	xs, rest, err := decodeList(b, objstore.DigestGroups, objstore.DigestGroups)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%w: %d bytes after the group list", ErrMalformed, len(rest))
	}
	if err != nil {
		return nil, fmt.Errorf("peerapi: decode groups: %w", err)
	}
	groups := make([]uint8, len(xs))
	for i, x := range xs {
		groups[i] = uint8(x)
	}
	return groups, nil
}

// leavesRequest is the body of POST /private/v1/leaves: the leaves asked
// for and the caller's records of those leaves.
type leavesRequest struct {
	leaves  []uint16
	records []objstore.Record
}

// decodeLeavesRequest decodes a leaves request and checks that every record
// belongs to one of its leaves.
func decodeLeavesRequest(b []byte) (leavesRequest, error) {
	xs, rest, err := decodeList(b, maxLeavesPerRequest, objstore.DigestLeaves)
	if err != nil {
		return leavesRequest{}, fmt.Errorf("peerapi: decode leaves request: %w", err)
	}
	req := leavesRequest{leaves: make([]uint16, len(xs))}
	for i, x := range xs {
		req.leaves[i] = uint16(x)
	}
	if req.records, err = decodeRecords(rest); err != nil {
		return leavesRequest{}, err
	}
	if err := checkLeaves(req.records, req.leaves); err != nil {
		return leavesRequest{}, fmt.Errorf("peerapi: decode leaves request: %w", err)
	}
	return req, nil
}

// checkLeaves reports a record outside the sorted leaves.
func checkLeaves(recs []objstore.Record, leaves []uint16) error {
	for _, rec := range recs {
		if _, ok := slices.BinarySearch(leaves, objstore.LeafOf(rec.Key)); !ok {
			return fmt.Errorf("%w: record %s is in leaf %d, not one of the %d leaves asked for",
				ErrMalformed, rec.Key, objstore.LeafOf(rec.Key), len(leaves))
		}
	}
	return nil
}

// encodeDigests encodes digests as 8 bytes big-endian each.
func encodeDigests(ds []uint64) []byte {
	b := make([]byte, 0, 8*len(ds))
	for _, d := range ds {
		b = binary.BigEndian.AppendUint64(b, d)
	}
	return b
}

// decodeDigests decodes exactly n digests.
func decodeDigests(b []byte, n int) ([]uint64, error) {
	if len(b) != 8*n {
		return nil, fmt.Errorf("peerapi: decode digests: %w: %d bytes, want %d digests of 8", ErrMalformed, len(b), n)
	}
	ds := make([]uint64, n)
	for i := range ds {
		ds[i] = binary.BigEndian.Uint64(b[8*i:])
	}
	return ds, nil
}
