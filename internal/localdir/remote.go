package localdir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

// Remote is an origin kept in a local directory. It is safe for concurrent
// use within one process.
type Remote struct {
	root string // absolute
	tmp  string // root/.tmp
	log  *slog.Logger
	// opened is when Open made the directory usable: the origin's state
	// is OriginOK since then (see Health).
	opened time.Time

	// mu orders commits against reads: Put's renames, Delete's removals and
	// prunes hold it for writing; Get and Stat hold it for reading while
	// they pair a body with its sidecar.
	mu sync.RWMutex
}

// Open opens (creating it if needed) the directory dir as an origin. A nil
// logger discards.
func Open(dir string, logger *slog.Logger) (*Remote, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("localdir: open %s: %w", dir, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Remote{root: root, tmp: filepath.Join(root, tmpDir), log: logger.With("component", "localdir"), opened: time.Now()}
	if err := durable.MkdirAll(r.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("localdir: open %s: %w", root, err)
	}
	if err := clearTemp(r.tmp); err != nil {
		return nil, fmt.Errorf("localdir: open %s: clear temporary files: %w", root, err)
	}
	return r, nil
}

// String describes the origin for logs.
func (r *Remote) String() string { return "local directory " + r.root }

// Get opens an object and restores its record from the sidecar.
func (r *Remote) Get(ctx context.Context, key objstore.Key) (io.ReadCloser, objstore.Record, error) {
	p, err := keyPaths(r.root, key)
	if err != nil {
		return nil, objstore.Record{}, fmt.Errorf("localdir: get: %w", err)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, err := os.Open(p.body)
	if err != nil {
		return nil, objstore.Record{}, lookupError("get", key, err)
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = fs.ErrNotExist // a directory of other keys, not an object
	}
	var rec objstore.Record
	if err == nil {
		rec, err = r.record(key, p, fi.Size())
	}
	if err != nil {
		_ = f.Close() // read-only; the error that matters is err
		return nil, objstore.Record{}, lookupError("get", key, err)
	}
	return f, rec, nil
}

// Stat returns an object's record as Get would restore it.
func (r *Remote) Stat(ctx context.Context, key objstore.Key) (objstore.Record, error) {
	p, err := keyPaths(r.root, key)
	if err != nil {
		return objstore.Record{}, fmt.Errorf("localdir: stat: %w", err)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	fi, err := os.Stat(p.body)
	if err == nil && fi.IsDir() {
		err = fs.ErrNotExist
	}
	var rec objstore.Record
	if err == nil {
		rec, err = r.record(key, p, fi.Size())
	}
	if err != nil {
		return objstore.Record{}, lookupError("stat", key, err)
	}
	return rec, nil
}

// record restores the record of the body at p, of size bytes, from its
// sidecar, or as a foreign object when the sidecar is missing or does not
// match the body.
func (r *Remote) record(key objstore.Key, p paths, size int64) (objstore.Record, error) {
	data, err := os.ReadFile(p.meta)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) {
		return foreignRecord(key, p.body, size), nil
	}
	if err != nil {
		return objstore.Record{}, err
	}
	rec, err := decodeSidecar(key, size, data)
	if err != nil {
		r.log.Warn("sidecar does not match body; treating object as foreign", "key", key.String(), "err", err)
		return foreignRecord(key, p.body, size), nil
	}
	return rec, nil
}

// foreignRecord is the record of a body that objstore did not write; its
// version is the file's modification time.
func foreignRecord(key objstore.Key, body string, size int64) objstore.Record {
	name := key.ID[strings.LastIndex(key.ID, "/")+1:]
	var modified time.Time
	if fi, err := os.Stat(body); err == nil {
		modified = fi.ModTime()
	}
	v := objstore.ForeignVersion(modified)
	return objstore.Record{
		Key:         key,
		Name:        name,
		ContentType: mime.TypeByExtension(filepath.Ext(name)),
		Level:       objstore.LevelS3,
		Sum:         objstore.Checksum{Size: size},
		Version:     v,
		BodyVersion: v,
		InRemote:    true,
	}
}

// Delete removes an object's body, then its sidecar, then empty parent
// directories. A missing object is not an error.
func (r *Remote) Delete(ctx context.Context, key objstore.Key) error {
	p, err := keyPaths(r.root, key)
	if err != nil {
		return fmt.Errorf("localdir: delete: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, file := range []string{p.body, p.meta} {
		if err := removeFile(file); err != nil {
			return unavailable("delete", key, err)
		}
	}
	prune(filepath.Dir(p.body), p.bucket)
	prune(filepath.Dir(p.meta), filepath.Join(p.bucket, metaDir))
	return nil
}

// removeFile removes a regular file and fsyncs its directory. A missing
// file, or a directory (of other keys), is left alone.
func removeFile(name string) error {
	fi, err := os.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || (err == nil && fi.IsDir()) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return durable.SyncDir(filepath.Dir(name))
}

// lookupError wraps a failure to read an object: a missing file (or a file
// where a directory should be) is objstore.ErrNotFound, anything else
// objstore.ErrNoRemote.
func lookupError(op string, key objstore.Key, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("localdir: %s %s: %w", op, key, objstore.ErrNotFound)
	}
	return unavailable(op, key, err)
}

// unavailable wraps a failure of the directory itself.
func unavailable(op string, key objstore.Key, err error) error {
	return fmt.Errorf("localdir: %s %s: %w: %w", op, key, objstore.ErrNoRemote, err)
}
