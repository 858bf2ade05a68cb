package multipart

import (
	"fmt"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

// ioError wraps an error of op on the local disk, adding
// objstore.ErrInsufficientStorage when the disk or a disk quota is full.
func ioError(op string, err error) error {
	if durable.NoSpace(err) {
		return fmt.Errorf("%s: %w: %w", op, objstore.ErrInsufficientStorage, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
