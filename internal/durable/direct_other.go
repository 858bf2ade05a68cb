//go:build !linux

package durable

import (
	"errors"
	"os"
)

// openDirect fails: O_DIRECT is used on Linux only.
func openDirect(string) (*os.File, error) {
	return nil, errors.New("durable: no O_DIRECT on this system")
}
