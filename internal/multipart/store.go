package multipart

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"sphere.software/objstore/internal/durable"
)

// Store keeps multipart uploads under one directory. Its methods are safe
// for concurrent use. Only one Store may use a directory at a time.
//
// Lock order: an upload's mu before Store.mu, never the other way round.
type Store struct {
	dir     string
	tmp     string
	minPart int64
	maxPart int64
	now     func() time.Time
	log     *slog.Logger
	space   Space

	mu      sync.RWMutex // guards uploads
	uploads map[string]*upload
}

// upload is the in-memory state of one upload.
type upload struct {
	info Info // set at Create or Open, never changed

	mu sync.RWMutex // guards the fields below
	// dir holds the upload's files: <root>/<id>, or a directory in tmp
	// once removed while pinned.
	dir     string
	parts   map[int]storedPart
	nextGen uint64 // the generation the next installed part gets
	removed bool
	// pins counts the open Assembly readers. While it is above 0, files
	// of superseded parts are listed in deferred instead of removed, and a
	// removed upload's directory is kept.
	pins     int
	deferred []storedPart
	// booked is what u's files hold of the disk quota: its parts and the
	// superseded part files not yet removed.
	booked int64
}

// storedPart is a part and the generation of its file.
type storedPart struct {
	Part
	gen uint64
}

// name is the file name of p.
func (p storedPart) name() string { return partName(p.Number, p.gen, p.MD5) }

// Open opens the store in cfg.Dir, creating it if needed. It removes what
// a crash left in tmp (parts being written, uploads half created or half
// removed), discards upload directories without a readable info.json, and
// of two files of one part keeps the newer.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Store{
		dir:     filepath.Clean(cfg.Dir),
		minPart: cfg.MinPartSize,
		maxPart: cfg.MaxPartSize,
		now:     cfg.Now,
		log:     cfg.Logger.With("component", "multipart"),
		space:   cfg.Space,
		uploads: make(map[string]*upload),
	}
	s.tmp = filepath.Join(s.dir, tmpDir)
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("multipart: open: %w", err)
	}
	if err := s.clearTmp(); err != nil {
		return nil, fmt.Errorf("multipart: open: %w", err)
	}
	if err := s.loadAll(); err != nil {
		return nil, fmt.Errorf("multipart: open: %w", err)
	}
	// Make the emptied tmp and the discarded uploads durable once.
	if err := durable.SyncDir(s.dir); err != nil {
		return nil, fmt.Errorf("multipart: open: %w", err)
	}
	return s, nil
}

// lookup returns the upload called id. It fails with ErrNoSuchUpload for
// an unknown id and, without building any path, for a malformed one. The
// upload may be removed meanwhile: callers check removed under its lock.
func (s *Store) lookup(id string) (*upload, error) {
	if !validID(id) {
		return nil, ErrNoSuchUpload
	}
	s.mu.RLock()
	u := s.uploads[id]
	s.mu.RUnlock()
	if u == nil {
		return nil, ErrNoSuchUpload
	}
	return u, nil
}

// Get returns the Info of the upload id, or an error wrapping
// ErrNoSuchUpload.
func (s *Store) Get(id string) (Info, error) {
	u, err := s.lookup(id)
	if err == nil {
		u.mu.RLock()
		if u.removed {
			err = ErrNoSuchUpload
		}
		u.mu.RUnlock()
	}
	if err != nil {
		return Info{}, fmt.Errorf("multipart: get %q: %w", id, err)
	}
	return u.info.clone(), nil
}

// Remove removes the upload id and its parts, durably: for
// AbortMultipartUpload, and after CompleteMultipartUpload has stored the
// assembled body. It fails with an error wrapping ErrNoSuchUpload if the
// upload does not exist (or was removed already). Readers of an Assembly
// of the upload keep working until they are closed.
func (s *Store) Remove(id string) error {
	u, err := s.lookup(id)
	if err != nil {
		return fmt.Errorf("multipart: remove %q: %w", id, err)
	}
	u.mu.Lock()
	if u.removed {
		u.mu.Unlock()
		return fmt.Errorf("multipart: remove %q: %w", id, ErrNoSuchUpload)
	}
	trash := filepath.Join(s.tmp, "rm-"+id)
	// Not durable.Rename: the rename must be under u's lock and the fsync
	// outside it, and only the directory it left needs one (tmp is
	// cleared at Open whatever it holds).
	if err := os.Rename(u.dir, trash); err != nil {
		u.mu.Unlock()
		return fmt.Errorf("multipart: remove %s: %w", id, err)
	}
	u.removed, u.dir = true, trash
	purge := u.pins == 0
	s.mu.Lock()
	delete(s.uploads, id)
	s.mu.Unlock()
	u.mu.Unlock()

	// Past the rename the upload is gone for this process; the fsync makes
	// that survive a crash, which would otherwise bring it back whole.
	if err := durable.SyncDir(s.dir); err != nil {
		return fmt.Errorf("multipart: remove %s: %w", id, err)
	}
	if purge {
		s.purge(u)
	}
	return nil
}

// purge deletes the directory of the removed upload u from tmp and returns
// its bytes to the quota. A failure is only logged: the upload is gone
// durably, and Open clears tmp.
func (s *Store) purge(u *upload) {
	u.mu.Lock()
	dir, booked := u.dir, u.booked
	u.booked = 0
	u.mu.Unlock()
	if err := os.RemoveAll(dir); err != nil {
		s.log.Warn("cannot delete removed upload", "upload", u.info.ID, "err", err)
	}
	s.space.Release(booked)
}

// Expire removes the uploads initiated more than olderThan ago, as S3's
// AbortIncompleteMultipartUpload lifecycle rule does, and returns how many
// it removed. It stops early, with ctx's error, when ctx is done.
func (s *Store) Expire(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := s.now().Add(-olderThan)
	var old []string
	s.mu.RLock()
	for id, u := range s.uploads {
		if u.info.Initiated.Before(cutoff) {
			old = append(old, id)
		}
	}
	s.mu.RUnlock()
	n := 0
	for _, id := range old {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("multipart: expire: %w", err)
		}
		err := s.Remove(id)
		if errors.Is(err, ErrNoSuchUpload) {
			continue // removed meanwhile
		}
		if err != nil {
			return n, fmt.Errorf("multipart: expire: %w", err)
		}
		n++
	}
	if n > 0 {
		s.log.Info("expired uploads", "count", n, "older_than", olderThan)
	}
	return n, nil
}

// Usage returns the number of uploads and the bytes of their parts. Parts
// still being written are not counted.
func (s *Store) Usage() (uploads int, bytes int64, err error) {
	s.mu.RLock()
	all := make([]*upload, 0, len(s.uploads))
	for _, u := range s.uploads {
		all = append(all, u)
	}
	s.mu.RUnlock()
	for _, u := range all {
		u.mu.RLock()
		if !u.removed {
			uploads++
			for _, p := range u.parts {
				bytes += p.Size
			}
		}
		u.mu.RUnlock()
	}
	return uploads, bytes, nil
}
