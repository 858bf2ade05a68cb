//go:build linux || darwin || freebsd

package durable

import (
	"errors"
	"syscall"
)

// NoSpace reports whether err is the disk or a disk quota being full.
func NoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
