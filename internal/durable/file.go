package durable

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// state is where a File is in its life.
type state uint8

const (
	writing   state = iota // temp file open, not yet renamed
	renamed                // renamed into place; the directory may not be synced
	committed              // renamed and its directory synced
	closed                 // Close was called
)

// File is a temp file that becomes visible under its final path, whole and
// durable, only when Commit returns. Write, Sync, Commit and Close must be
// called from one goroutine at a time; ReadAt may be called from others at
// the same time (it uses pread, which does not move the write offset).
type File struct {
	f *os.File // set once by CreateTemp
	// positioned is set by WriteAround once it opened direct, a second
	// descriptor on the temp file that writes around the page cache:
	// every Write then goes to off, with pwrite on either descriptor, and
	// f's own offset stays unused. direct is closed and nil again once a
	// write through it failed.
	positioned bool
	direct     *os.File
	off        int64
	state      state
	synced     bool   // no Write since the last successful Sync
	path       string // the final path, once renamed
}

// CreateTemp creates a new temp file in dir, named by pattern as
// os.CreateTemp does. dir must be on the file system of the final path,
// so that Commit's rename is atomic.
func CreateTemp(dir, pattern string) (*File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &File{f: f}, nil
}

// Name is the path of the temp file until Commit renames it, then the
// final path.
func (f *File) Name() string {
	if f.path != "" {
		return f.path
	}
	return f.f.Name()
}

// Write appends p to the file.
func (f *File) Write(p []byte) (int, error) {
	if f.state != writing {
		return 0, fmt.Errorf("durable: write %s: %w", f.Name(), fs.ErrClosed)
	}
	f.synced = false
	if f.positioned {
		return f.writeAt(p)
	}
	return f.f.Write(p)
}

// ReadAt reads what has been written so far, until Close.
func (f *File) ReadAt(p []byte, off int64) (int, error) { return f.f.ReadAt(p, off) }

// Stat returns the file's FileInfo.
func (f *File) Stat() (fs.FileInfo, error) { return f.f.Stat() }

// Sync flushes the file's bytes to stable storage. Commit calls it when
// needed; callers call it first to keep the fsync of the data out of a
// lock they hold around CommitFunc.
func (f *File) Sync() error {
	if f.synced {
		return nil
	}
	if err := f.f.Sync(); err != nil {
		return err
	}
	f.synced = true
	return nil
}

// Commit syncs the file, renames it to path, replacing what is there, and
// fsyncs path's directory. Once it returns nil, the file is at path after
// any crash. If it fails before the rename the temp file stays until
// Close removes it; if the directory sync fails, Renamed reports true and
// the file is at path but may not be after a crash.
func (f *File) Commit(path string) error {
	return f.CommitFunc(func(rename func(string) error) error { return rename(path) })
}

// CommitFunc is Commit for callers that choose the final path, or keep
// books of their own, while holding a lock: it syncs the file, then calls
// publish with a function that renames the file to a path. publish must
// call rename at most once and return its error, or an error of its own;
// CommitFunc returns that error as it is (the file is renamed if rename
// succeeded: see Renamed).
// After publish returns, the directory of the path it renamed to is
// fsynced.
func (f *File) CommitFunc(publish func(rename func(path string) error) error) error {
	return f.commitFunc(publish, true, func() error { return SyncDir(filepath.Dir(f.path)) })
}

// PublishFunc is CommitFunc without its two fsyncs: the file is renamed
// into place, but after a crash of the machine it may be missing there, or
// hold fewer or other bytes. It is for a copy whose durable home is
// elsewhere and whose reader checks it (a body already in the origin: see
// internal/disk, Writer.CommitCopy); a crash of the process alone loses
// nothing. The file stays renamed, never committed.
func (f *File) PublishFunc(publish func(rename func(path string) error) error) error {
	return f.commitFunc(publish, false, nil)
}

// CommitGroup is CommitFunc for a file whose final path holds nothing yet
// (a new version of a body, say), made durable by b rather than by fsyncs
// of its own: publish renames the file into place first, and b.Sync then
// makes the file, its name and every other file renamed meanwhile durable
// with one sync of the file system. Until it returns, a crash of the
// machine may leave the file at its path torn or empty, which is why the
// path must be new and nothing may point at it yet (a journal record comes
// after). With a nil b it is CommitFunc.
func (f *File) CommitGroup(b *Barrier, publish func(rename func(path string) error) error) error {
	if b == nil {
		return f.CommitFunc(publish)
	}
	return f.commitFunc(publish, false, b.Sync)
}

// commitFunc runs publish, with the file fsynced before when syncFirst,
// and makes the rename durable after with durable, if set; without it the
// file stays renamed, never committed.
func (f *File) commitFunc(publish func(rename func(path string) error) error, syncFirst bool, durable func() error) error {
	if f.state != writing {
		return fmt.Errorf("durable: commit %s: not writing", f.Name())
	}
	if syncFirst {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("durable: sync %s: %w", f.Name(), err)
		}
	}
	err := publish(f.rename)
	if f.state != renamed {
		if err == nil {
			err = fmt.Errorf("durable: commit %s: publish did not rename", f.Name())
		}
		return err // the rename's, or the caller's own
	}
	if durable == nil {
		return err
	}
	if syncErr := durable(); syncErr != nil {
		return errors.Join(err, fmt.Errorf("durable: commit %s: %w", f.path, syncErr))
	}
	if err != nil {
		return err // the caller's own error, after a rename that is durable
	}
	f.state, f.synced = committed, true
	return nil
}

// rename moves the temp file to path, once.
func (f *File) rename(path string) error {
	if f.state != writing {
		return fmt.Errorf("durable: rename %s: renamed already", f.Name())
	}
	if err := os.Rename(f.f.Name(), path); err != nil {
		return err
	}
	f.state, f.path = renamed, path
	return nil
}

// Renamed reports whether the file was renamed into place, even if a
// later step of its Commit failed.
func (f *File) Renamed() bool { return f.path != "" }

// Close closes the file. Unless the file was renamed, it also removes it.
// Closing twice is not an error.
func (f *File) Close() error {
	if f.state == closed {
		return nil
	}
	wasRenamed := f.Renamed()
	f.state = closed
	err := f.f.Close()
	if f.direct != nil {
		err = errors.Join(err, f.direct.Close())
	}
	if !wasRenamed {
		if rmErr := os.Remove(f.f.Name()); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
			err = errors.Join(err, rmErr)
		}
	}
	if err != nil {
		return fmt.Errorf("durable: close %s: %w", f.Name(), err)
	}
	return nil
}

// WriteFile writes data to path atomically and durably, with permissions
// perm: through a temp file in path's directory, which it removes on error.
// A crash leaves either the old file or the new one, never a mix, and
// maybe a temp file named path's base + ".tmp*".
func WriteFile(path string, data []byte, perm fs.FileMode) (err error) {
	f, err := CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("durable: write %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if err := f.f.Chmod(perm); err != nil {
		return fmt.Errorf("durable: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("durable: write %s: %w", path, err)
	}
	return f.Commit(path)
}
