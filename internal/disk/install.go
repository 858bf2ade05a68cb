package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sphere.software/objstore/internal/durable"
)

// install commits the temp file f as the body called name, durably (see
// Writer.Commit). Once f is renamed, its size counts as held (and is taken
// off again if the body had to be removed because it could not be made
// durable). With synced false nothing is synced (CommitCopy).
func (s *Store) install(f *durable.File, name string, size int64, synced bool) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := s.ensureShard(name); err != nil {
		return err
	}
	path := bodyPath(s.dir, name)
	publish := func(rename func(string) error) error {
		return s.renameLocked(rename, path, name, size)
	}
	switch {
	case !synced:
		err = f.PublishFunc(publish)
	case s.barrier != nil && size <= GroupCommitMax && isNew(path):
		// Nothing at path to tear, and nothing points at it before Commit
		// returns: rename first, then one sync for the whole group.
		err = f.CommitGroup(s.barrier, publish)
	default:
		err = f.CommitFunc(publish)
	}
	if err != nil && f.Renamed() {
		// A crash could lose the rename: don't let Open serve the body.
		return errors.Join(err, s.removeFile(path, name, fi))
	}
	return err
}

// ensureShard creates the shard directory of name if needed. A shard that
// this process has not yet seen durable gets dir fsynced too, so its entry
// survives a crash before any body is renamed into it.
func (s *Store) ensureShard(name string) error {
	i := shardIndex(shardOf(name))
	if s.shardSynced[i].Load() {
		return nil
	}
	if err := durable.Mkdir(filepath.Join(s.dir, shardOf(name)), 0o755); err != nil {
		return err
	}
	s.shardSynced[i].Store(true)
	return nil
}

// renameLocked renames a body into path with rename, under fsMu, and keeps
// the counters in step: size bytes move from in flight to held, and the
// body it replaces, if any, is no longer held.
func (s *Store) renameLocked(rename func(string) error, path, name string, size int64) error {
	s.fsMu.Lock()
	defer s.fsMu.Unlock()
	var old int64
	if fi, err := os.Lstat(path); err == nil {
		old = fi.Size()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := rename(path); err != nil {
		return err
	}
	s.changedLocked(name, size-old)
	s.committedLocked(name)
	s.held.Add(size - old)
	s.reserved.Add(-old)
	s.markVerified(name)
	return nil
}

// shardIndex is the number of a shard directory name, two lowercase hex
// digits (see isShard).
func shardIndex(shard string) int { return hexValue(shard[0])<<4 | hexValue(shard[1]) }

func hexValue(c byte) int {
	if c >= 'a' {
		return int(c-'a') + 10
	}
	return int(c - '0')
}

// isNew reports whether nothing is at path. A body of the same name that
// lands after the check holds the same bytes (a name is a key and version),
// so a group commit over it risks no other body.
func isNew(path string) bool {
	_, err := os.Lstat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// SyncAll makes every body renamed into place so far durable (CommitCopy's
// among them) with one sync of the file system, shared with concurrent
// commits. Without a group sync (Config.FsyncEach, or a system without
// one) it fails with an error wrapping errors.ErrUnsupported.
func (s *Store) SyncAll() error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if s.barrier == nil {
		return fmt.Errorf("disk: sync: %w", errors.ErrUnsupported)
	}
	if err := s.barrier.Sync(); err != nil {
		return ioError("sync", s.dir, err)
	}
	return nil
}
