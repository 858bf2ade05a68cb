package disk

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"sphere.software/objstore/internal/durable"
)

// install commits the synced temp file f as the body called name. Once f
// is renamed, its size counts as held (and is taken off again if the body
// had to be removed because the directory could not be synced).
// With synced false it fsyncs neither f nor the directory (CommitCopy).
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
	if synced {
		err = f.CommitFunc(publish)
	} else {
		err = f.PublishFunc(publish)
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
