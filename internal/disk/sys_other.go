//go:build !(linux || darwin || freebsd)

package disk

import (
	"errors"
	"syscall"

	"sphere.software/objstore"
)

// statfs is not supported on this platform.
func statfs(string) (objstore.DiskUsage, error) {
	return objstore.DiskUsage{}, errors.ErrUnsupported
}

// noSpace reports whether err is the disk being full.
func noSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }
