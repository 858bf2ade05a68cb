//go:build linux || darwin || freebsd

package multipart

import (
	"errors"
	"syscall"
)

// noSpace reports whether err is the disk or a disk quota being full.
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
