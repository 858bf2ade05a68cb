package multipart

import (
	"fmt"
	"os"

	"sphere.software/objstore"
)

// syncDir fsyncs a directory so that the entries made or removed in it
// are durable.
func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		_ = d.Close() // the Sync error is the one to report
		return err
	}
	return d.Close()
}

// writeFileSync creates the file path with data and fsyncs it. On error
// it removes the file.
func writeFileSync(path string, data []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(path) // the write's error is the one to report
		}
	}()
	if _, err := f.Write(data); err != nil {
		_ = f.Close() // the Write error is the one to report
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close() // the Sync error is the one to report
		return err
	}
	return f.Close()
}

// ioError wraps an error of op on the local disk, adding
// objstore.ErrInsufficientStorage when the disk or a disk quota is full.
func ioError(op string, err error) error {
	if noSpace(err) {
		return fmt.Errorf("%s: %w: %w", op, objstore.ErrInsufficientStorage, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
