//go:build !(linux || darwin || freebsd)

package multipart

import (
	"errors"
	"syscall"
)

// noSpace reports whether err is the disk being full.
func noSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }
