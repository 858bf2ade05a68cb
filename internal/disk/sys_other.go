//go:build !(linux || darwin || freebsd)

package disk

import (
	"errors"
	"os"

	"sphere.software/objstore"
)

// statfs is not supported on this platform.
func statfs(string) (objstore.DiskUsage, error) {
	return objstore.DiskUsage{}, errors.ErrUnsupported
}

// lockFile opens the file at path without locking it: this platform has no
// flock(2). The owner file still keeps nodes with other IDs out.
func lockFile(path string) (f *os.File, holder string, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	return f, "", err
}
