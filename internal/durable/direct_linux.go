package durable

import (
	"os"
	"syscall"
)

// openDirectFile opens the file at path for writing around the page cache.
// It fails where the file system does not do O_DIRECT (tmpfs), and the
// caller then writes through the page cache.
func openDirectFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|syscall.O_DIRECT, 0)
}
