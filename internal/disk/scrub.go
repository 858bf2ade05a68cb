package disk

import (
	"fmt"
	"io"

	"sphere.software/objstore"
)

// Scrub re-reads the committed body of version v of key whole, checking
// every block against its checksum, whether or not this process has read
// it before: rot that sets in after the first Open is found only so. A
// body that fails is removed and reported (SetOnCorrupt), as a failing
// read removes one, and the error wraps objstore.ErrChecksum; a missing
// body (evicted, replaced) wraps objstore.ErrNotFound. The caller paces
// the calls: Scrub reads at disk speed.
func (s *Store) Scrub(key objstore.Key, v objstore.Version, sum objstore.Checksum) error {
	b, err := s.Open(key, v, sum)
	if err != nil {
		return err
	}
	defer b.Close() // read-only: nothing to flush
	if b.readWhole {
		return nil // Open just read it whole against sum
	}
	if _, err := b.WriteTo(io.Discard); err != nil {
		return fmt.Errorf("disk: scrub: %w", err)
	}
	return nil
}
