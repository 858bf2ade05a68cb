//go:build !(linux || darwin || freebsd)

package disk

import (
	"errors"

	"sphere.software/objstore"
)

// statfs is not supported on this platform.
func statfs(string) (objstore.DiskUsage, error) {
	return objstore.DiskUsage{}, errors.ErrUnsupported
}
