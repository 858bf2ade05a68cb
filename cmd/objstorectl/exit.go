package main

import (
	"context"
	"errors"
	"fmt"

	"sphere.software/objstore/client"
)

// The exit codes (see the package comment).
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitNotFound    = 3
	exitUnreachable = 4
	exitRefused     = 5
	exitConflict    = 6
	exitInterrupted = 130
)

// usageError is a command line that cannot be run: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCode maps an error to the exit code scripts see.
func exitCode(ctx context.Context, err error) int {
	var u *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		return exitUsage
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, context.DeadlineExceeded):
		return exitError // --timeout: the nodes answered too slowly, not "unreachable"
	case errors.Is(err, client.ErrNotFound):
		return exitNotFound
	case errors.Is(err, client.ErrUnreachable), errors.Is(err, client.ErrUnavailable):
		return exitUnreachable
	case errors.Is(err, client.ErrUnauthorized), errors.Is(err, client.ErrForbidden):
		return exitRefused
	case errors.Is(err, client.ErrConflict):
		return exitConflict
	}
	return exitError
}
