package durable

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// SyncDir fsyncs the directory path, so that the entries created, renamed
// or removed in it survive a crash.
func SyncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Mkdir creates the directory dir if it is missing and fsyncs its parent,
// even when dir existed: a process that crashed after creating it may not
// have synced the parent. Callers remember that dir is durable rather than
// calling Mkdir on every write.
func Mkdir(dir string, perm fs.FileMode) error {
	if err := os.Mkdir(dir, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return SyncDir(filepath.Dir(dir))
}

// MkdirAll creates dir and its missing parents, fsyncing the parent of
// each directory it creates; a directory that exists costs one stat. It
// fails with an error wrapping syscall.ENOTDIR when a file is in the way.
func MkdirAll(dir string, perm fs.FileMode) error {
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
	if parent != dir {
		if err := MkdirAll(parent, perm); err != nil {
			return err
		}
	}
	return Mkdir(dir, perm)
}

// Rename moves oldpath to newpath, replacing a file there, and fsyncs the
// directory of newpath and, when it differs, that of oldpath: after a
// crash the entry is under the new name only.
func Rename(oldpath, newpath string) error {
	if err := os.Rename(oldpath, newpath); err != nil {
		return err
	}
	newDir, oldDir := filepath.Dir(newpath), filepath.Dir(oldpath)
	if err := SyncDir(newDir); err != nil {
		return err
	}
	if oldDir != newDir {
		return SyncDir(oldDir)
	}
	return nil
}
