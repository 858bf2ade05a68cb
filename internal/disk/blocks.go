package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// BlockSize is the span of body bytes one block checksum covers: a read
// verifies the whole blocks it touches and no others. 64 KiB keeps a small
// Range read cheap (one block read and hashed, about 5 µs) while the
// trailer stays at 4 bytes per 64 KiB (0.006 %).
const BlockSize = 64 << 10

// Trailer format. A body of more than one block is followed in its file by
//
//	sums     n × uint32 LE   CRC-32C of each block, n = ceil(size / blockSize)
//	footer   16 bytes        magic "OSB1" | blockSize uint32 LE | n uint32 LE |
//	                         CRC-32C of sums and the first 12 footer bytes
//
// A body of at most one block has no trailer: the record's whole-body
// CRC-32C is its one block's. The footer carries its block size, so a
// file written with another BlockSize still reads.
const (
	footerLen   = 16
	footerMagic = "OSB1"
)

// blockCount is the number of blocks of a body of size bytes.
func blockCount(size, bs int64) int64 {
	if size == 0 {
		return 1
	}
	return (size + bs - 1) / bs
}

// trailerLen is the length of the trailer written after a body of size
// bytes with block size bs: 0 for a body of one block.
func trailerLen(size, bs int64) int64 {
	n := blockCount(size, bs)
	if n <= 1 {
		return 0
	}
	return 4*n + footerLen
}

// FileSize is the size of the file that holds a body of size bytes: the
// body and its trailer. The quota, the held bytes and the bytes evicted
// count file sizes.
func FileSize(size int64) int64 { return size + trailerLen(size, BlockSize) }

// blockSums accumulates the CRC-32C of each block of a body as its bytes
// pass in order.
type blockSums struct {
	bs   int64
	sums []uint32
	cur  uint32 // CRC-32C of the block being filled
	fill int64  // bytes in it
}

func (b *blockSums) write(p []byte) {
	for len(p) > 0 {
		k := min(int64(len(p)), b.bs-b.fill)
		b.cur = crc32.Update(b.cur, castagnoli, p[:k])
		b.fill += k
		p = p[k:]
		if b.fill == b.bs {
			b.sums = append(b.sums, b.cur)
			b.cur, b.fill = 0, 0
		}
	}
}

// done returns the block sums, the last partial block included.
func (b *blockSums) done() []uint32 {
	if b.fill > 0 || len(b.sums) == 0 {
		b.sums = append(b.sums, b.cur)
		b.cur, b.fill = 0, 0
	}
	return b.sums
}

// encodeTrailer returns the trailer of a body with the given block sums.
func encodeTrailer(sums []uint32, bs int64) []byte {
	t := make([]byte, 4*len(sums)+footerLen)
	for i, c := range sums {
		binary.LittleEndian.PutUint32(t[4*i:], c)
	}
	f := t[4*len(sums):]
	copy(f, footerMagic)
	binary.LittleEndian.PutUint32(f[4:], uint32(bs))
	binary.LittleEndian.PutUint32(f[8:], uint32(len(sums)))
	binary.LittleEndian.PutUint32(f[12:], crc32.Checksum(t[:len(t)-4], castagnoli))
	return t
}

// errNoTrailer means a body file holds no valid trailer: it was written by
// an older objstore, or its trailer rotted.
var errNoTrailer = errors.New("no valid block checksums")

// readTrailer reads and checks the trailer of the body file f, which holds
// a body of size bytes and is fileSize bytes long, and returns its block
// size and sums. A file without a valid one gives an error wrapping
// errNoTrailer.
func readTrailer(f *os.File, size, fileSize int64) (int64, []uint32, error) {
	tl := fileSize - size
	if tl < footerLen+8 || (tl-footerLen)%4 != 0 {
		return 0, nil, fmt.Errorf("%w: %d bytes after the body", errNoTrailer, tl)
	}
	t := make([]byte, tl)
	if _, err := f.ReadAt(t, size); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, fmt.Errorf("read block checksums: %w", err)
	}
	foot := t[tl-footerLen:]
	bs := int64(binary.LittleEndian.Uint32(foot[4:]))
	n := int64(binary.LittleEndian.Uint32(foot[8:]))
	switch {
	case string(foot[:4]) != footerMagic:
		return 0, nil, fmt.Errorf("%w: bad magic", errNoTrailer)
	case binary.LittleEndian.Uint32(foot[12:]) != crc32.Checksum(t[:tl-4], castagnoli):
		return 0, nil, fmt.Errorf("%w: trailer fails its checksum", errNoTrailer)
	case bs <= 0 || n != (tl-footerLen)/4 || n != blockCount(size, bs) || n <= 1:
		return 0, nil, fmt.Errorf("%w: %d sums of %d-byte blocks for %d bytes", errNoTrailer, n, bs, size)
	}
	sums := make([]uint32, n)
	for i := range sums {
		sums[i] = binary.LittleEndian.Uint32(t[4*i:])
	}
	return bs, sums, nil
}
