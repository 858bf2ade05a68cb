package localdir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

// Put writes rec.Size() bytes of body and rec's sidecar durably; see the
// package doc for the order. The bucket directory is created if missing.
func (r *Remote) Put(ctx context.Context, rec objstore.Record, body io.ReaderAt) error {
	p, err := keyPaths(r.root, rec.Key)
	if err != nil {
		return fmt.Errorf("localdir: put: %w", err)
	}
	if rec.Size() < 0 {
		return fmt.Errorf("localdir: put %s: negative size %d", rec.Key, rec.Size())
	}
	meta, err := encodeSidecar(rec)
	if err != nil {
		return fmt.Errorf("localdir: put %s: %w", rec.Key, err)
	}
	tmpBody, err := writeTemp(ctx, r.tmp, io.NewSectionReader(body, 0, rec.Size()), rec.Size())
	if err != nil {
		return putError(rec.Key, err)
	}
	defer closeTemp(tmpBody)
	tmpMeta, err := writeTemp(ctx, r.tmp, strings.NewReader(string(meta)), int64(len(meta)))
	if err != nil {
		return putError(rec.Key, err)
	}
	defer closeTemp(tmpMeta)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil { // last chance before the object changes
		return putError(rec.Key, err)
	}
	return r.commitLocked(rec.Key, p, tmpBody, tmpMeta)
}

// commitLocked moves the written body and sidecar into place: old sidecar
// out, body in, new sidecar in, each step made durable before the next.
func (r *Remote) commitLocked(key objstore.Key, p paths, tmpBody, tmpMeta *durable.File) error {
	if err := prepareBody(p); err != nil {
		return putError(key, err)
	}
	if err := clearStaleMeta(p); err != nil {
		return putError(key, err)
	}
	if err := durable.MkdirAll(filepath.Dir(p.meta), 0o755); err != nil {
		return putError(key, err)
	}
	if err := removeFile(p.meta); err != nil {
		return putError(key, err)
	}
	if err := tmpBody.Commit(p.body); err != nil {
		return putError(key, err)
	}
	if err := tmpMeta.Commit(p.meta); err != nil {
		return putError(key, err)
	}
	return nil
}

// prepareBody creates the body's parent directories and checks that the
// body's path is free for a file: the key must not collide with the
// directory of other keys ("a" when "a/b" exists) nor need a directory
// where another key's body is ("a/b" when "a" exists).
func prepareBody(p paths) error {
	if err := durable.MkdirAll(p.bucket, 0o755); err != nil {
		return err // not the key's fault: the bucket directory is unusable
	}
	err := durable.MkdirAll(filepath.Dir(p.body), 0o755)
	if errors.Is(err, syscall.ENOTDIR) {
		return conflict("another key's object is where its directory would be")
	}
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(p.body); err == nil && fi.IsDir() {
		return conflict("other keys have it as their directory")
	}
	return nil
}

func conflict(why string) error {
	return fmt.Errorf("%w: key collides with existing keys: %s", objstore.ErrInvalidKey, why)
}

// clearStaleMeta removes sidecars left in the sidecar's path by a crash
// during Delete: a sidecar file where the new one needs a directory, or a
// directory where it needs a file. Once prepareBody has passed, no body
// matches them.
func clearStaleMeta(p paths) error {
	metaRoot := filepath.Join(p.bucket, metaDir)
	for dir := filepath.Dir(p.meta); len(dir) > len(metaRoot); dir = filepath.Dir(dir) {
		if fi, err := os.Lstat(dir); err == nil && !fi.IsDir() {
			if err := os.Remove(dir); err != nil {
				return err
			}
		}
	}
	if fi, err := os.Lstat(p.meta); err == nil && fi.IsDir() {
		return os.RemoveAll(p.meta)
	}
	return nil
}

// putError wraps a failed Put. Failures of the directory also wrap
// objstore.ErrNoRemote; invalid keys, short bodies, the caller's body and
// context errors do not.
func putError(key objstore.Key, err error) error {
	var re readError
	if errors.As(err, &re) || errors.Is(err, objstore.ErrInvalidKey) || errors.Is(err, objstore.ErrIncomplete) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("localdir: put %s: %w", key, err)
	}
	return unavailable("put", key, err)
}

// closeTemp closes a temp file, which removes it unless it was committed.
func closeTemp(f *durable.File) {
	_ = f.Close() // the data is synced or discarded; Open clears what is left
}
