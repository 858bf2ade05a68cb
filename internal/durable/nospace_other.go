//go:build !(linux || darwin || freebsd)

package durable

import (
	"errors"
	"syscall"
)

// NoSpace reports whether err is the disk being full.
func NoSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }
