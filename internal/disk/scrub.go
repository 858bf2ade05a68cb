package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"sphere.software/objstore"
)

// Scrub re-reads the committed body of version v of key whole and compares
// its size and CRC-32C with sum, whether or not this process has verified
// it before: rot that sets in after the first Open is found only so. A
// body that fails is removed, as Open removes one, and the error wraps
// objstore.ErrChecksum; a missing body (evicted, replaced) wraps
// objstore.ErrNotFound. The caller paces the calls: Scrub reads at disk
// speed.
func (s *Store) Scrub(key objstore.Key, v objstore.Version, sum objstore.Checksum) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	name := fileName(key, v)
	f, err := os.Open(bodyPath(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disk: scrub %s: %w", name, objstore.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("disk: scrub %s: %w", name, err)
	}
	defer f.Close() // read-only: nothing to flush
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("disk: scrub %s: %w", name, err)
	}
	size, crc, err := crcOf(f)
	if err != nil {
		return fmt.Errorf("disk: scrub %s: %w", name, err)
	}
	if size != sum.Size || crc != sum.CRC32C {
		return s.reject(name, fi, fmt.Sprintf("scrub: size %d crc32c %08x, want size %d crc32c %08x",
			size, crc, sum.Size, sum.CRC32C))
	}
	return nil
}
