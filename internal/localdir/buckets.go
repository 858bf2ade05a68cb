package localdir

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

// ListBuckets returns the bucket directories of the root, sorted by name.
// Created is the directory's modification time: a file system keeps no
// creation time portably.
func (r *Remote) ListBuckets(ctx context.Context) ([]objstore.Bucket, error) {
	entries, err := os.ReadDir(r.root) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("localdir: list buckets: %w: %w", objstore.ErrNoRemote, err)
	}
	var buckets []objstore.Bucket
	for _, e := range entries {
		if !e.IsDir() || bucketProblem(e.Name()) != "" { // .tmp, and whatever else is not a bucket
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) { // deleted meanwhile
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("localdir: list buckets: %w: %w", objstore.ErrNoRemote, err)
		}
		buckets = append(buckets, objstore.Bucket{Name: e.Name(), Created: fi.ModTime()})
	}
	return buckets, nil
}

// CreateBucket creates the directory of bucket name; an existing one is
// fine. A file in its place has taken the name.
func (r *Remote) CreateBucket(ctx context.Context, name string) error {
	if err := checkBucketName("create bucket", name); err != nil {
		return err
	}
	err := durable.MkdirAll(filepath.Join(r.root, name), 0o755)
	if errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("localdir: create bucket %s: %w: a file holds the name", name, objstore.ErrBucketExists)
	}
	if err != nil {
		return bucketUnavailable("create bucket", name, err)
	}
	return nil
}

// HeadBucket reports whether the bucket directory exists.
func (r *Remote) HeadBucket(ctx context.Context, name string) error {
	_, err := r.bucketDir("head bucket", name)
	return err
}

// DeleteBucket removes the bucket directory when it holds no object: empty
// directories and sidecars left without a body (by a crash during Delete)
// go with it. It holds the write lock so that no Put commits meanwhile, and
// removes directories one by one rather than recursively, so that a file
// dropped in by hand meanwhile stops it instead of being lost.
func (r *Remote) DeleteBucket(ctx context.Context, name string) error {
	dir, err := r.bucketDir("delete bucket", name)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	dirs, stale, err := bucketTree(dir)
	switch {
	case errors.Is(err, objstore.ErrBucketNotEmpty):
		return fmt.Errorf("localdir: delete bucket %s: %w", name, err)
	case errors.Is(err, fs.ErrNotExist): // deleted meanwhile
		return fmt.Errorf("localdir: delete bucket %s: %w", name, objstore.ErrNoSuchBucket)
	}
	if err != nil {
		return bucketUnavailable("delete bucket", name, err)
	}
	for _, f := range stale {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return bucketUnavailable("delete bucket", name, err)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- { // children before parents
		err := os.Remove(dirs[i])
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("localdir: delete bucket %s: %w: a file appeared in %s", name, objstore.ErrBucketNotEmpty, dirs[i])
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return bucketUnavailable("delete bucket", name, err)
		}
	}
	if err := durable.SyncDir(r.root); err != nil {
		return bucketUnavailable("delete bucket", name, err)
	}
	return nil
}

// bucketTree walks a bucket directory and returns its directories, parents
// first, and the files of its sidecar tree. It fails with an error wrapping
// objstore.ErrBucketNotEmpty at the first file outside the sidecar tree:
// the body of an object, or a foreign file that may be one.
func bucketTree(dir string) (dirs, stale []string, err error) {
	metaRoot := filepath.Join(dir, metaDir)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && path != dir: // removed meanwhile
			return nil
		case err != nil:
			return err
		case d.IsDir():
			dirs = append(dirs, path)
		case path == metaRoot || strings.HasPrefix(path, metaRoot+string(filepath.Separator)):
			stale = append(stale, path)
		default:
			rel, _ := filepath.Rel(dir, path) // path is below dir
			return fmt.Errorf("%w: it holds %s", objstore.ErrBucketNotEmpty, filepath.ToSlash(rel))
		}
		return nil
	})
	return dirs, stale, err
}

// bucketDir returns the directory of bucket name, or fails with an error
// wrapping objstore.ErrNoSuchBucket when there is none.
func (r *Remote) bucketDir(op, name string) (string, error) {
	if err := checkBucketName(op, name); err != nil {
		return "", err
	}
	dir := filepath.Join(r.root, name)
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return dir, nil
	case err == nil, errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return "", fmt.Errorf("localdir: %s %s: %w", op, name, objstore.ErrNoSuchBucket)
	default:
		return "", bucketUnavailable(op, name, err)
	}
}

// checkBucketName rejects names that are not valid S3 bucket names (among
// them .tmp and anything else that is not a single path segment). The
// error wraps objstore.ErrInvalidBucket and, as object operations do for
// the same names, objstore.ErrInvalidKey.
func checkBucketName(op, name string) error {
	if why := bucketProblem(name); why != "" {
		return fmt.Errorf("localdir: %s %q: %w (%w): %s", op, name, objstore.ErrInvalidBucket, objstore.ErrInvalidKey, why)
	}
	return nil
}

// bucketUnavailable wraps a failure of the directory in a bucket operation.
func bucketUnavailable(op, name string, err error) error {
	return fmt.Errorf("localdir: %s %s: %w: %w", op, name, objstore.ErrNoRemote, err)
}

// List returns one page of bucket's keys; see objstore.ListQuery. It walks
// the bucket directory from the directory of the prefix, visiting entries
// in the byte order of their keys (a directory "d" sorts as "d/", where its
// keys begin), so it stops as soon as the page is full and one more key or
// common prefix is known to follow, and never descends into a directory
// whose keys all roll up into one common prefix or come at or before
// StartAfter.
func (r *Remote) List(ctx context.Context, bucket string, q objstore.ListQuery) (objstore.ListPage, error) {
	dir, err := r.bucketDir("list", bucket)
	if err != nil {
		return objstore.ListPage{}, err
	}
	start := q.Prefix[:strings.LastIndex(q.Prefix, "/")+1] // "" or the prefix's directory, with its "/"
	if start != "" && checkKey(strings.TrimSuffix(start, "/")) != nil {
		return objstore.ListPage{}, nil // no valid key lies below it, and the path may not be safe
	}
	w := &walker{r: r, ctx: ctx, bucket: bucket, q: q, max: q.PageSize(), skip: q.CommonPrefix(q.StartAfter)}
	err = w.walkDir(filepath.Join(dir, filepath.FromSlash(start)), start)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return objstore.ListPage{}, fmt.Errorf("localdir: list %s: %w", bucket, err)
	case err != nil:
		return objstore.ListPage{}, bucketUnavailable("list", bucket, err)
	}
	return w.page, nil
}

// walker builds one listing page.
type walker struct {
	r      *Remote
	ctx    context.Context
	bucket string
	q      objstore.ListQuery
	max    int
	skip   string // the common prefix StartAfter stands for, or ""

	page   objstore.ListPage
	n      int    // objects plus common prefixes in page
	last   string // the greatest key or common prefix in page
	lastCP string // the last common prefix in page
	done   bool   // the page is full and more follows
}

// walkDir visits the entries of directory abs, whose keys start with rel
// ("" or ending in "/"), in key order.
func (w *walker) walkDir(abs, rel string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(abs)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil // pruned by a Delete meanwhile, or a body: no keys below
	}
	if err != nil {
		return err
	}
	keys := make([]string, len(entries)) // the entries' names as they sort among keys
	for i, e := range entries {
		keys[i] = e.Name()
		if e.IsDir() {
			keys[i] += "/"
		}
	}
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	for _, i := range order {
		name := entries[i].Name()
		switch {
		case w.done:
			return nil
		case rel == "" && name == metaDir:
			continue
		case entries[i].IsDir():
			err = w.visitDir(filepath.Join(abs, name), rel+name+"/")
		default:
			err = w.visitFile(filepath.Join(abs, name), rel+name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// visitDir visits directory abs, whose keys all start with sub.
func (w *walker) visitDir(abs, sub string) error {
	q := w.q
	switch {
	case !strings.HasPrefix(sub, q.Prefix) && !strings.HasPrefix(q.Prefix, sub):
		return nil // no key below has the prefix
	case sub <= q.StartAfter && !strings.HasPrefix(q.StartAfter, sub):
		return nil // every key below sorts before StartAfter
	case w.skip != "" && strings.HasPrefix(sub, w.skip):
		return nil // below the common prefix StartAfter stands for
	}
	cp := q.CommonPrefix(sub)
	if cp == "" {
		return w.walkDir(abs, sub)
	}
	// Every key below rolls up into cp: it is listed once if any is an object.
	if cp == w.lastCP || cp <= q.StartAfter {
		return nil
	}
	found, err := hasObject(abs, sub)
	if err != nil || !found {
		return err
	}
	w.addPrefix(cp)
	return nil
}

// visitFile visits file abs, the body of key if it is an object.
func (w *walker) visitFile(abs, key string) error {
	q := w.q
	if !strings.HasPrefix(key, q.Prefix) || key <= q.StartAfter ||
		(w.skip != "" && strings.HasPrefix(key, w.skip)) || checkKey(key) != nil {
		return nil
	}
	fi, err := bodyInfo(abs)
	if err != nil || fi == nil {
		return err
	}
	if cp := q.CommonPrefix(key); cp != "" {
		if cp != w.lastCP {
			w.addPrefix(cp)
		}
		return nil
	}
	if w.full() {
		return nil
	}
	e, ok, err := w.r.listEntry(w.bucket, key)
	if err != nil || !ok {
		return err
	}
	w.page.Objects = append(w.page.Objects, e)
	w.n, w.last = w.n+1, key
	return nil
}

func (w *walker) addPrefix(cp string) {
	if w.full() {
		return
	}
	w.page.Prefixes = append(w.page.Prefixes, cp)
	w.n, w.last, w.lastCP = w.n+1, cp, cp
}

// full reports whether the page is full, and if so ends it: the caller has
// found one more key or common prefix to list.
func (w *walker) full() bool {
	if w.n < w.max {
		return false
	}
	w.page.Truncated, w.page.Next, w.done = true, w.last, true
	return true
}

// listEntry returns the listing entry of key, or false when its body is
// gone. The ETag is the MD5 from the sidecar, read under the read lock so
// that it pairs with the body as Stat would; a foreign object's MD5 is
// computed from the body.
func (r *Remote) listEntry(bucket, key string) (objstore.ListEntry, bool, error) {
	k := objstore.Key{Bucket: bucket, ID: key}
	p, err := keyPaths(r.root, k)
	if err != nil {
		return objstore.ListEntry{}, false, nil // walk filters these; be safe
	}
	r.mu.RLock()
	fi, err := bodyInfo(p.body)
	var rec objstore.Record
	if err == nil && fi != nil {
		rec, err = r.record(k, p, fi.Size())
	}
	r.mu.RUnlock()
	if err != nil || fi == nil {
		return objstore.ListEntry{}, false, err
	}
	sum := rec.Sum.MD5
	if sum == (objstore.MD5{}) {
		if sum, err = fileMD5(p.body); errors.Is(err, fs.ErrNotExist) {
			return objstore.ListEntry{}, false, nil
		} else if err != nil {
			return objstore.ListEntry{}, false, err
		}
	}
	return objstore.ListEntry{Key: key, Size: fi.Size(), ETag: `"` + sum.String() + `"`, Modified: fi.ModTime()}, true, nil
}

// fileMD5 computes the MD5 of a file.
func fileMD5(name string) (objstore.MD5, error) {
	f, err := os.Open(name)
	if err != nil {
		return objstore.MD5{}, err
	}
	h := md5.New()
	_, err = io.Copy(h, f)
	_ = f.Close() // read-only: the copy's error is the one that matters
	if err != nil {
		return objstore.MD5{}, err
	}
	var sum objstore.MD5
	h.Sum(sum[:0])
	return sum, nil
}

// bodyInfo returns the FileInfo of the body at abs, following a symbolic
// link as Get does, or nil when abs is gone or not a regular file.
func bodyInfo(abs string) (fs.FileInfo, error) {
	fi, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil || !fi.Mode().IsRegular() {
		return nil, err
	}
	return fi, nil
}

// hasObject reports whether directory abs, holding the keys that start
// with rel, holds any object.
func hasObject(abs, rel string) (bool, error) {
	found := false
	err := filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		if err != nil || d.IsDir() {
			return err
		}
		sub, _ := filepath.Rel(abs, path) // path is below abs
		if checkKey(rel+filepath.ToSlash(sub)) != nil {
			return nil
		}
		fi, err := bodyInfo(path)
		if err == nil && fi != nil {
			found = true
			return fs.SkipAll
		}
		return err
	})
	return found, err
}
