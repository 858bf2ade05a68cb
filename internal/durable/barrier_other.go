//go:build !linux

package durable

import (
	"errors"
	"os"
)

// syncfs is Linux's; elsewhere there is no Barrier.
func syncfs(*os.File) error { return errors.ErrUnsupported }

// syncfsReportsErrors is false where there is no syncfs.
func syncfsReportsErrors() bool { return false }
