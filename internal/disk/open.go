package disk

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"

	"sphere.software/objstore"
)

// verifyCall is one verification in progress; callers that find it wait
// on done and share its outcome.
type verifyCall struct {
	done chan struct{}
	mem  []uint32 // block sums to keep in memory; nil when the file's serve
	err  error
}

// Open opens the committed body of version v of key for reading, as a Body
// that checks every block it reads. A missing body wraps
// objstore.ErrNotFound. A body shorter than sum, or whose CRC-32C differs
// on the first Open in this process, is removed and reported (SetOnCorrupt)
// and the error wraps objstore.ErrChecksum. Concurrent first Opens of one
// body read it once.
func (s *Store) Open(key objstore.Key, v objstore.Version, sum objstore.Checksum) (*Body, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	name := fileName(key, v)
	f, err := os.Open(bodyPath(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("disk: open %s: %w", name, objstore.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", name, err)
	}
	b := &Body{s: s, f: f, name: name, key: key, v: v, size: sum.Size}
	if err := s.check(b, sum); err != nil {
		_ = f.Close() // read-only; the check's error is the one to report
		return nil, err
	}
	return b, nil
}

// check compares the open body b with sum and sets its block sums: from the
// trailer, from the record for a body of one block, or from memory for a
// body whose file has none (written by an older objstore, or whose trailer
// rotted), which is read whole once to compute them. A body not verified
// in this process is read whole and compared with sum first.
func (s *Store) check(b *Body, sum objstore.Checksum) error {
	fi, err := b.f.Stat()
	if err != nil {
		return fmt.Errorf("disk: open %s: %w", b.name, err)
	}
	b.fi = fi
	if fi.Size() < sum.Size {
		err := s.reject(b.name, fi, fmt.Sprintf("size %d, want %d", fi.Size(), sum.Size))
		s.reportCorrupt(b.key, b.v, err)
		return err
	}
	terr := s.fileSums(b, sum)
	if terr != nil && !errors.Is(terr, errNoTrailer) {
		return fmt.Errorf("disk: open %s: %w", b.name, terr)
	}
	mem, known := s.verifiedSums(b.name)
	switch {
	case known && mem != nil:
		b.bs, b.sums = BlockSize, mem
		return nil
	case known && terr == nil:
		return nil
	}
	if known {
		// Verified, but the trailer is unreadable now: verify again.
		s.forgetVerified(b.name)
	}
	if terr == nil {
		mem, b.readWhole, err = s.verifyOnce(b, sum, b.bs, b.sums)
	} else {
		mem, b.readWhole, err = s.verifyOnce(b, sum, BlockSize, nil)
	}
	if err != nil {
		return err
	}
	if mem != nil {
		b.bs, b.sums = BlockSize, mem
	}
	return nil
}

// fileSums sets b's block sums from its file: the trailer of a body of
// more than one block, the record's CRC-32C for a body of one. A file
// without usable sums gives an error wrapping errNoTrailer.
func (s *Store) fileSums(b *Body, sum objstore.Checksum) error {
	if b.fi.Size() == sum.Size {
		if sum.Size <= BlockSize {
			b.bs, b.sums = BlockSize, []uint32{sum.CRC32C}
			return nil
		}
		return fmt.Errorf("%w: written without them", errNoTrailer)
	}
	bs, sums, err := readTrailer(b.f, sum.Size, b.fi.Size())
	if err != nil {
		return err
	}
	b.bs, b.sums = bs, sums
	return nil
}

// verifiedSums reports whether the body called name was verified in this
// process and the block sums kept in memory for it, if any.
func (s *Store) verifiedSums(name string) ([]uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mem, ok := s.verified[name]
	return mem, ok
}

// verifyOnce verifies b (see verify), sharing one verification among
// concurrent callers, and remembers the outcome. read reports that the
// body was read whole for this call (by it, or by the call it waited for)
// rather than found verified already.
func (s *Store) verifyOnce(b *Body, sum objstore.Checksum, bs int64, fileSums []uint32) (mem []uint32, read bool, err error) {
	s.mu.Lock()
	if mem, ok := s.verified[b.name]; ok {
		s.mu.Unlock()
		return mem, false, nil
	}
	if c, ok := s.verifying[b.name]; ok {
		s.mu.Unlock()
		<-c.done
		return c.mem, true, c.err
	}
	c := &verifyCall{done: make(chan struct{})}
	s.verifying[b.name] = c
	s.mu.Unlock()

	c.mem, c.err = s.verify(b, sum, bs, fileSums)

	s.mu.Lock()
	// forget drops the call when the body is removed meanwhile: then the
	// result no longer describes the file at name.
	if s.verifying[b.name] == c {
		delete(s.verifying, b.name)
		if c.err == nil {
			s.verified[b.name] = c.mem
		}
	}
	s.mu.Unlock()
	close(c.done)
	return c.mem, true, c.err
}

// verify reads b whole, compares its size and CRC-32C with sum, rejecting
// the body if they differ, and computes its sums of BlockSize blocks. It
// returns the sums to keep in memory: none when fileSums, the file's own
// of bs-byte blocks, agree with them (or are of another block size).
func (s *Store) verify(b *Body, sum objstore.Checksum, bs int64, fileSums []uint32) ([]uint32, error) {
	s.verifications.Add(1)
	size, crc, blocks, err := crcOf(b.f, sum.Size, BlockSize)
	if err != nil {
		return nil, fmt.Errorf("disk: verify %s: %w", b.name, err)
	}
	if size != sum.Size || crc != sum.CRC32C {
		// Reported here, once, not by every Open that waited for this one.
		err := s.reject(b.name, b.fi, fmt.Sprintf("size %d crc32c %08x, want size %d crc32c %08x",
			size, crc, sum.Size, sum.CRC32C))
		s.reportCorrupt(b.key, b.v, err)
		return nil, err
	}
	switch {
	case fileSums == nil:
		s.log.Info("body has no block checksums: keeping them in memory", "name", b.name, "blocks", len(blocks))
		return blocks, nil
	case bs != BlockSize:
		// Written with another block size: its own sums passed their
		// trailer's check, and the sums kept in memory are of BlockSize.
		return nil, nil
	case !slices.Equal(fileSums, blocks):
		s.log.Warn("block checksums disagree with a sound body: keeping the right ones in memory", "name", b.name)
		return blocks, nil
	}
	return nil, nil
}

// reject removes the corrupt body called name, if the file fi is still
// the one in place, and returns an error wrapping objstore.ErrChecksum.
func (s *Store) reject(name string, fi fs.FileInfo, why string) error {
	s.log.Warn("removing corrupt body", "name", name, "mismatch", why)
	err := fmt.Errorf("disk: open %s: %w: %s", name, objstore.ErrChecksum, why)
	if rmErr := s.removeFile(bodyPath(s.dir, name), name, fi); rmErr != nil {
		return errors.Join(err, fmt.Errorf("disk: remove corrupt %s: %w", name, rmErr))
	}
	return err
}

// readBufSize is the size of the buffers that verification reads with.
const readBufSize = 1 << 20

var readBufs = sync.Pool{New: func() any { return new([readBufSize]byte) }}

// crcOf reads the first size bytes of f with pread, leaving its offset
// alone, and returns their length (less at the end of the file), their
// CRC-32C and the CRC-32C of each block of bs bytes.
func crcOf(f *os.File, size, bs int64) (n int64, crc uint32, blocks []uint32, err error) {
	buf := readBufs.Get().(*[readBufSize]byte)
	defer readBufs.Put(buf)
	sums := blockSums{bs: bs}
	for n < size {
		k, err := f.ReadAt(buf[:min(int64(readBufSize), size-n)], n)
		crc = crc32.Update(crc, castagnoli, buf[:k])
		sums.write(buf[:k])
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, crc, nil, err
		}
	}
	return n, crc, sums.done(), nil
}

// markVerified records that the body called name matches its checksum.
func (s *Store) markVerified(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verified[name] = nil
}

// forgetVerified drops name from the verified bodies.
func (s *Store) forgetVerified(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.verified, name)
}

// forget drops name from the verified bodies and detaches a verification
// of it in progress, whose result no longer applies.
func (s *Store) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.verified, name)
	delete(s.verifying, name)
}

// Has reports whether a committed body of key at version v is on disk. It
// only looks (no checksum check), so it is cheap enough for scans.
func (s *Store) Has(key objstore.Key, v objstore.Version) bool {
	_, err := os.Stat(bodyPath(s.dir, fileName(key, v)))
	return err == nil
}
