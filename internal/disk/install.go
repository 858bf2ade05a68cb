package disk

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// install moves the synced temp file f into place as the body called name
// and makes the move durable. moved reports whether the rename happened;
// from then on the file's size counts as held (and is taken off again if
// the body had to be removed because the directory could not be synced).
func (s *Store) install(f *os.File, name string, size int64) (moved bool, err error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	if err := s.ensureShard(name); err != nil {
		return false, err
	}
	if err := s.rename(f.Name(), name, size); err != nil {
		return false, err
	}
	if err := syncDir(filepath.Join(s.dir, shardOf(name))); err != nil {
		// A crash could lose the rename: don't let Open serve the body.
		return true, errors.Join(err, s.removeFile(bodyPath(s.dir, name), name, fi))
	}
	return true, nil
}

// ensureShard creates the shard directory of name if needed. A shard that
// this process has not yet seen durable gets dir fsynced too, so its entry
// survives a crash before any body is renamed into it.
func (s *Store) ensureShard(name string) error {
	i := shardIndex(shardOf(name))
	if s.shardSynced[i].Load() {
		return nil
	}
	shard := filepath.Join(s.dir, shardOf(name))
	if err := os.Mkdir(shard, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	s.shardSynced[i].Store(true)
	return nil
}

// rename moves the temp file at tmpPath to the body called name and keeps
// the counters in step: size bytes move from in flight to held, and the
// body it replaces, if any, is no longer held.
func (s *Store) rename(tmpPath, name string, size int64) error {
	path := bodyPath(s.dir, name)
	s.fsMu.Lock()
	defer s.fsMu.Unlock()
	var old int64
	if fi, err := os.Lstat(path); err == nil {
		old = fi.Size()
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return err
	}
	s.held.Add(size - old)
	s.reserved.Add(-old)
	s.markVerified(name)
	return nil
}

// syncDir fsyncs a directory so that the entries made in it are durable.
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

// shardIndex is the number of a shard directory name, two lowercase hex
// digits (see isShard).
func shardIndex(shard string) int { return hexValue(shard[0])<<4 | hexValue(shard[1]) }

func hexValue(c byte) int {
	if c >= 'a' {
		return int(c-'a') + 10
	}
	return int(c - '0')
}
