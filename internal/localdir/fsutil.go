package localdir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"sphere.software/objstore"
)

// syncDir fsyncs a directory, making renames and removals in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// mkdirAll creates dir and its missing parents, fsyncing the parent of each
// directory it creates. It fails with syscall.ENOTDIR when a file is in
// the way.
func mkdirAll(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	parent := filepath.Dir(dir)
	if err := mkdirAll(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// writeTemp writes size bytes of r to a new file in dir, fsyncs and closes
// it, and returns its path. It checks ctx between chunks. Errors reading r
// are wrapped in readError.
func writeTemp(ctx context.Context, dir string, r io.Reader, size int64) (string, error) {
	f, err := os.CreateTemp(dir, "put-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = copyBody(ctx, f, r, size)
	if err == nil {
		err = syncClose(f)
	} else {
		_ = f.Close() // the write already failed
	}
	if err != nil {
		_ = os.Remove(name) // best effort: Open clears dir anyway
		return "", err
	}
	return name, nil
}

func syncClose(f *os.File) error {
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
