package localdir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

// writeTemp writes size bytes of r to a new temp file in dir and syncs
// it. It checks ctx between chunks. Errors reading r are wrapped in
// readError. The caller commits the file or closes it, which removes it.
func writeTemp(ctx context.Context, dir string, r io.Reader, size int64) (*durable.File, error) {
	f, err := durable.CreateTemp(dir, "put-*")
	if err != nil {
		return nil, err
	}
	err = copyBody(ctx, f, r, size)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		_ = f.Close() // removes it; best effort: Open clears dir anyway
		return nil, err
	}
	return f, nil
}

// chunkSize is how much copyBody copies between checks of the context.
const chunkSize = 1 << 20

// copyBody copies exactly size bytes from r to w.
func copyBody(ctx context.Context, w io.Writer, r io.Reader, size int64) error {
	buf := make([]byte, min(size, chunkSize))
	for done := int64(0); done < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(r, buf[:min(size-done, int64(len(buf)))])
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: body ended after %d of %d bytes", objstore.ErrIncomplete, done+int64(n), size)
		}
		if err != nil {
			return readError{err}
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
		done += int64(n)
	}
	return ctx.Err()
}

// readError marks a failure of the caller's body, as opposed to one of the
// directory (disk full, I/O error, permissions).
type readError struct{ err error }

func (e readError) Error() string { return "read body: " + e.err.Error() }
func (e readError) Unwrap() error { return e.err }

// prune removes dir and its empty parents up to, not including, stop.
func prune(dir, stop string) {
	for dir != stop && len(dir) > len(stop) {
		if os.Remove(dir) != nil { // not empty, or gone: stop there
			return
		}
		dir = filepath.Dir(dir)
	}
}

// clearTemp removes leftover temporary files from an earlier process.
func clearTemp(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
