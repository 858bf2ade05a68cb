package multipart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// clearTmp empties dir/tmp, creating it if needed.
func (s *Store) clearTmp() error {
	entries, err := os.ReadDir(s.tmp)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.tmp, e.Name())); err != nil {
			return fmt.Errorf("remove leftover: %w", err)
		}
	}
	if len(entries) > 0 {
		s.log.Info("removed interrupted writes", "count", len(entries))
	}
	if err := os.Mkdir(s.tmp, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// errBroken marks an upload directory that Open discards.
var errBroken = errors.New("broken upload")

// loadAll loads every upload in dir. Entries that are not upload
// directories are left alone; upload directories without a readable
// info.json are removed.
func (s *Store) loadAll() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		id := e.Name()
		if id == tmpDir {
			continue
		}
		if !e.IsDir() || !validID(id) {
			s.log.Warn("ignoring unknown entry", "name", id)
			continue
		}
		u, err := s.loadUpload(id)
		if errors.Is(err, errBroken) {
			s.log.Warn("removing broken upload", "upload", id, "err", err)
			if err := os.RemoveAll(uploadDir(s.dir, id)); err != nil {
				return fmt.Errorf("remove broken upload %s: %w", id, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("load upload %s: %w", id, err)
		}
		for _, p := range u.parts {
			u.booked += p.Size
		}
		s.space.Book(u.booked)
		s.uploads[id] = u
	}
	return nil
}

// loadUpload reads the upload id from its directory. A missing or
// undecodable info.json wraps errBroken; other errors (such as EIO) are
// returned as they are, so that Open fails rather than drop data.
func (s *Store) loadUpload(id string) (*upload, error) {
	dir := uploadDir(s.dir, id)
	data, err := os.ReadFile(filepath.Join(dir, infoName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no %s", errBroken, infoName)
	}
	if err != nil {
		return nil, err
	}
	info, err := decodeInfo(id, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errBroken, infoName, err)
	}
	u := &upload{info: info, dir: dir, parts: make(map[int]storedPart), nextGen: 1}
	if err := s.loadParts(u); err != nil {
		return nil, err
	}
	return u, nil
}

// loadParts fills u.parts from u.dir. Of several files of one part number
// it keeps the highest generation and removes the others, which a crash
// left between a replacement's rename and the removal of what it
// replaced. Files it does not know are removed.
func (s *Store) loadParts(u *upload) error {
	entries, err := os.ReadDir(u.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if name == infoName {
			continue
		}
		number, gen, sum, ok := parsePartName(name)
		if !ok || !e.Type().IsRegular() {
			s.removeStale(u, name, "unknown file")
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		p := storedPart{Part: newPart(number, fi.Size(), sum, fi.ModTime()), gen: gen}
		u.nextGen = max(u.nextGen, gen+1)
		old, had := u.parts[number]
		switch {
		case !had:
			u.parts[number] = p
		case old.gen < gen:
			u.parts[number] = p
			s.removeStale(u, old.name(), "superseded part")
		default:
			s.removeStale(u, name, "superseded part")
		}
	}
	return nil
}

// removeStale removes the file called name from u's directory at Open,
// logging why. A failure is only logged: the next Open tries again.
func (s *Store) removeStale(u *upload, name, why string) {
	s.log.Info("removing "+why, "upload", u.info.ID, "name", name)
	if err := os.RemoveAll(filepath.Join(u.dir, name)); err != nil {
		s.log.Warn("cannot remove "+why, "upload", u.info.ID, "name", name, "err", err)
	}
}
