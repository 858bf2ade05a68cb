package multipart

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

// Create starts an upload described by info (its ID and Initiated are
// ignored), stores it durably and returns it with the ID and initiation
// time assigned. Bucket and Key must not be empty (objstore.ErrInvalidKey)
// and UserMeta, when set, must be valid JSON (objstore.ErrInvalidUserMeta);
// checking them further is the caller's job.
func (s *Store) Create(info Info) (Info, error) {
	if info.Bucket == "" || info.Key == "" {
		return Info{}, fmt.Errorf("multipart: create: empty bucket or key: %w", objstore.ErrInvalidKey)
	}
	if info.UserMeta != nil && !json.Valid(info.UserMeta) {
		return Info{}, fmt.Errorf("multipart: create %s/%s: %w", info.Bucket, info.Key, objstore.ErrInvalidUserMeta)
	}
	t := s.now().UTC()
	if t.Before(time.Unix(0, 0)) {
		t = time.Unix(0, 0).UTC() // an ID holds the time as unsigned nanoseconds
	}
	info = info.clone()
	info.ID, info.Initiated = newID(t), t
	data, err := encodeInfo(info)
	if err != nil {
		return Info{}, fmt.Errorf("multipart: create %s/%s: %w", info.Bucket, info.Key, err)
	}
	if err := s.writeUpload(info.ID, data); err != nil {
		return Info{}, fmt.Errorf("multipart: create %s/%s: %w", info.Bucket, info.Key, err)
	}
	u := &upload{info: info, dir: uploadDir(s.dir, info.ID), parts: make(map[int]storedPart), nextGen: 1}
	s.mu.Lock()
	s.uploads[info.ID] = u
	s.mu.Unlock()
	return info.clone(), nil
}

// writeUpload makes the directory of the upload id holding info.json, all
// at once: it is built in tmp, synced, and renamed into place durably.
func (s *Store) writeUpload(id string, info []byte) (err error) {
	stage := filepath.Join(s.tmp, "new-"+id)
	final := uploadDir(s.dir, id)
	if err := os.Mkdir(stage, 0o755); err != nil {
		return ioError("create", err)
	}
	defer func() {
		if err != nil {
			// Best effort: one of the two exists; Open clears tmp anyway.
			err = errors.Join(err, os.RemoveAll(stage), os.RemoveAll(final))
		}
	}()
	if err := durable.WriteFile(filepath.Join(stage, infoName), info, 0o644); err != nil {
		return ioError("write info", err)
	}
	if err := durable.Rename(stage, final); err != nil {
		return ioError("rename", err)
	}
	return nil
}
