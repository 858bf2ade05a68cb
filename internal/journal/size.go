package journal

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Size returns the bytes of the journal's file that hold data: its pages
// in use and free, as a read transaction sees them. The file on disk may
// be larger (bbolt grows it ahead of need).
func (s *Store) Size(ctx context.Context) (int64, error) {
	if err := ctxErr(ctx, "size"); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("journal: size: %w", err)
	}
	return n, nil
}
