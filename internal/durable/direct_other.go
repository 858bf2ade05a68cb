//go:build !linux

package durable

import (
	"errors"
	"os"
)

// openDirectFile fails: O_DIRECT is used on Linux only.
func openDirectFile(string) (*os.File, error) {
	return nil, errors.New("durable: no O_DIRECT on this system")
}
