package disk

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"sync"

	"sphere.software/objstore"
)

// verifyCall is one verification in progress; callers that find it wait
// on done and share err.
type verifyCall struct {
	done chan struct{}
	err  error
}

// Open opens the committed body of version v of key for reading. A missing
// body wraps objstore.ErrNotFound. A body whose size differs from sum, or
// whose CRC-32C differs on the first Open in this process, is removed and
// the error wraps objstore.ErrChecksum. Concurrent first Opens of one body
// read it once.
func (s *Store) Open(key objstore.Key, v objstore.Version, sum objstore.Checksum) (*os.File, error) {
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
	if err := s.check(f, name, sum); err != nil {
		_ = f.Close() // read-only; the check's error is the one to report
		return nil, err
	}
	return f, nil
}

// check compares the open body f with sum: its size always, its CRC-32C
// unless this process has verified or written it.
func (s *Store) check(f *os.File, name string, sum objstore.Checksum) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("disk: open %s: %w", name, err)
	}
	if fi.Size() != sum.Size {
		return s.reject(name, fi, fmt.Sprintf("size %d, want %d", fi.Size(), sum.Size))
	}
	return s.verifyOnce(f, fi, name, sum)
}

// verifyOnce verifies f unless name is verified already, sharing one
// verification among concurrent callers.
func (s *Store) verifyOnce(f *os.File, fi fs.FileInfo, name string, sum objstore.Checksum) error {
	s.mu.Lock()
	if _, ok := s.verified[name]; ok {
		s.mu.Unlock()
		return nil
	}
	if c, ok := s.verifying[name]; ok {
		s.mu.Unlock()
		<-c.done
		return c.err
	}
	c := &verifyCall{done: make(chan struct{})}
	s.verifying[name] = c
	s.mu.Unlock()

	c.err = s.verify(f, fi, name, sum)

	s.mu.Lock()
	// forget drops the call when the body is removed meanwhile: then the
	// result no longer describes the file at name.
	if s.verifying[name] == c {
		delete(s.verifying, name)
		if c.err == nil {
			s.verified[name] = struct{}{}
		}
	}
	s.mu.Unlock()
	close(c.done)
	return c.err
}

// verify reads f whole and compares its size and CRC-32C with sum,
// rejecting the body if they differ.
func (s *Store) verify(f *os.File, fi fs.FileInfo, name string, sum objstore.Checksum) error {
	s.verifications.Add(1)
	size, crc, err := crcOf(f)
	if err != nil {
		return fmt.Errorf("disk: verify %s: %w", name, err)
	}
	if size != sum.Size || crc != sum.CRC32C {
		return s.reject(name, fi, fmt.Sprintf("size %d crc32c %08x, want size %d crc32c %08x",
			size, crc, sum.Size, sum.CRC32C))
	}
	return nil
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

// crcOf reads f from the start with pread, leaving its offset alone, and
// returns its length and CRC-32C.
func crcOf(f *os.File) (size int64, crc uint32, err error) {
	buf := readBufs.Get().(*[readBufSize]byte)
	defer readBufs.Put(buf)
	for {
		n, err := f.ReadAt(buf[:], size)
		crc = crc32.Update(crc, castagnoli, buf[:n])
		size += int64(n)
		if err == io.EOF {
			return size, crc, nil
		}
		if err != nil {
			return size, crc, err
		}
	}
}

// markVerified records that the body called name matches its checksum.
func (s *Store) markVerified(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verified[name] = struct{}{}
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
