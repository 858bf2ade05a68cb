//go:build !linux

package integration

import (
	"errors"
	"os"
)

// setns fails: network namespaces are Linux's (requireNetns skips first).
func setns(*os.File) error {
	return errors.New("network namespaces are Linux-only")
}
