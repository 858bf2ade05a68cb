package localdir_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/localdir"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/objstoretest"
	"sphere.software/objstore/internal/remotetest"
)

var _ node.Remote = (*localdir.Remote)(nil)

// foreign adds remotetest.ForeignWriter: it drops a file into the directory.
type foreign struct {
	*localdir.Remote
	dir string
}

func (f foreign) WriteForeign(ctx context.Context, key objstore.Key, body []byte, contentType string) error {
	p := filepath.Join(f.dir, key.Bucket, filepath.FromSlash(key.ID))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, body, 0o644)
}

func open(t *testing.T) (*localdir.Remote, string) {
	t.Helper()
	dir := t.TempDir()
	r, err := localdir.Open(dir, objstoretest.Logger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r, dir
}

func TestRemote(t *testing.T) {
	var n atomic.Int64
	remotetest.Run(t, func(t *testing.T) (remotetest.Remote, string) {
		r, dir := open(t)
		bucket := fmt.Sprintf("bucket-%d", n.Add(1))
		if err := r.CreateBucket(t.Context(), bucket); err != nil {
			t.Fatalf("CreateBucket: %v", err)
		}
		return foreign{r, dir}, bucket
	})
}

func put(t *testing.T, r *localdir.Remote, key objstore.Key, body string) error {
	t.Helper()
	rec := remotetest.Record(key, []byte(body), 1<<16, objstore.LevelS3, "text/plain")
	return r.Put(t.Context(), rec, strings.NewReader(body))
}

func TestPutCreatesBucket(t *testing.T) {
	r, dir := open(t)
	if err := put(t, r, objstore.Key{Bucket: "fresh", ID: "k"}, "x"); err != nil {
		t.Fatalf("Put into a missing bucket: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "fresh", "k")); err != nil {
		t.Errorf("body not in place: %v", err)
	}
}

func TestConflicts(t *testing.T) {
	for _, tt := range []struct{ first, second string }{
		{"a", "a/b"},
		{"a/b", "a"},
		{"x/y", "x/y/z/w"},
	} {
		t.Run(tt.first+" then "+tt.second, func(t *testing.T) {
			r, _ := open(t)
			if err := put(t, r, objstore.Key{Bucket: "bkt", ID: tt.first}, "1"); err != nil {
				t.Fatalf("Put %s: %v", tt.first, err)
			}
			err := put(t, r, objstore.Key{Bucket: "bkt", ID: tt.second}, "2")
			if !errors.Is(err, objstore.ErrInvalidKey) || errors.Is(err, objstore.ErrNoRemote) {
				t.Errorf("Put %s: %v, want ErrInvalidKey", tt.second, err)
			}
			// The first object is intact and the second absent.
			if _, err := r.Stat(t.Context(), objstore.Key{Bucket: "bkt", ID: tt.first}); err != nil {
				t.Errorf("Stat %s: %v", tt.first, err)
			}
			if _, err := r.Stat(t.Context(), objstore.Key{Bucket: "bkt", ID: tt.second}); !errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("Stat %s: %v, want ErrNotFound", tt.second, err)
			}
		})
	}
}

func TestDeletePrunes(t *testing.T) {
	r, dir := open(t)
	keep := objstore.Key{Bucket: "bkt", ID: "a/keep"}
	gone := objstore.Key{Bucket: "bkt", ID: "a/b/c/gone"}
	for _, k := range []objstore.Key{keep, gone} {
		if err := put(t, r, k, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Delete(t.Context(), gone); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"bkt/a/b", "bkt/.objstore-meta/a/b"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not pruned: %v", p, err)
		}
	}
	if err := r.Delete(t.Context(), keep); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bkt", "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bkt/a not pruned: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "bkt")); err != nil || !fi.IsDir() {
		t.Errorf("bucket directory removed: %v", err)
	}
	// Now "a" is free for an object.
	if err := put(t, r, objstore.Key{Bucket: "bkt", ID: "a"}, "x"); err != nil {
		t.Errorf("Put a after its directory was pruned: %v", err)
	}
}

// TestDirectoryIsNotAnObject checks that the directory of other keys reads
// as missing and is not deleted.
func TestDirectoryIsNotAnObject(t *testing.T) {
	r, _ := open(t)
	if err := put(t, r, objstore.Key{Bucket: "bkt", ID: "d/child"}, "x"); err != nil {
		t.Fatal(err)
	}
	dirKey := objstore.Key{Bucket: "bkt", ID: "d"}
	if _, _, err := r.Get(t.Context(), dirKey); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get of a directory: %v", err)
	}
	if _, err := r.Stat(t.Context(), dirKey); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Stat of a directory: %v", err)
	}
	if err := r.Delete(t.Context(), dirKey); err != nil {
		t.Errorf("Delete of a directory: %v", err)
	}
	if _, err := r.Stat(t.Context(), objstore.Key{Bucket: "bkt", ID: "d/child"}); err != nil {
		t.Errorf("child gone after Delete of its directory: %v", err)
	}
	// A key below an object's file is missing, not an error.
	if _, err := r.Stat(t.Context(), objstore.Key{Bucket: "bkt", ID: "d/child/below"}); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Stat below a file: %v", err)
	}
}

// TestBodyWithoutMatchingSidecar checks that a body replaced by hand, or one
// whose sidecar is gone, reads as foreign.
func TestBodyWithoutMatchingSidecar(t *testing.T) {
	r, dir := open(t)
	key := objstore.Key{Bucket: "bkt", ID: "doc.txt"}
	if err := put(t, r, key, "original"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bkt", "doc.txt"), []byte("edited by hand"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, err := r.Stat(t.Context(), key)
	if err != nil || !rec.Version.IsForeign() || rec.Size() != int64(len("edited by hand")) {
		t.Errorf("Stat after a hand edit: %+v, %v; want a foreign record", rec, err)
	}
	if err := os.Remove(filepath.Join(dir, "bkt", ".objstore-meta", "doc.txt")); err != nil {
		t.Fatal(err)
	}
	rec, err = r.Stat(t.Context(), key)
	if err != nil || !rec.Version.IsForeign() || rec.ContentType != "text/plain; charset=utf-8" || rec.Name != "doc.txt" {
		t.Errorf("Stat without sidecar: %+v, %v; want a foreign record", rec, err)
	}
}

// TestStaleSidecars checks that sidecars left by a crash in the middle of a
// Delete (body removed, sidecar not) do not block later keys.
func TestStaleSidecars(t *testing.T) {
	r, dir := open(t)
	meta := filepath.Join(dir, "bkt", ".objstore-meta")
	if err := os.MkdirAll(filepath.Join(meta, "p", "q"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a", "p/q/r"} {
		if err := os.WriteFile(filepath.Join(meta, f), []byte(`{"format":1}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"a/b", "p"} {
		key := objstore.Key{Bucket: "bkt", ID: id}
		if err := put(t, r, key, "x"); err != nil {
			t.Errorf("Put %s over stale sidecars: %v", id, err)
			continue
		}
		if rec, err := r.Stat(t.Context(), key); err != nil || rec.Version.IsZero() {
			t.Errorf("Stat %s: %+v, %v", id, rec, err)
		}
	}
}

func TestOpenClearsTemp(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(dir, ".tmp", "put-123")
	if err := os.WriteFile(left, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := localdir.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temporary file kept: %v", err)
	}
	abs, _ := filepath.Abs(dir) // t.TempDir is absolute already
	if got := r.String(); got != "local directory "+abs {
		t.Errorf("String = %q", got)
	}
}

func TestPutShortBody(t *testing.T) {
	r, _ := open(t)
	key := objstore.Key{Bucket: "bkt", ID: "short"}
	rec := remotetest.Record(key, make([]byte, 100), 1<<16, objstore.LevelS3, "")
	err := r.Put(t.Context(), rec, bytes.NewReader(make([]byte, 60)))
	if !errors.Is(err, objstore.ErrIncomplete) {
		t.Errorf("Put of a short body: %v, want ErrIncomplete", err)
	}
	if _, err := r.Stat(t.Context(), key); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Stat after a failed Put: %v", err)
	}
}

func TestInvalidKeys(t *testing.T) {
	r, _ := open(t)
	for _, key := range []objstore.Key{
		{Bucket: "bkt", ID: "../escape"},
		{Bucket: "bkt", ID: ".objstore-meta/x"},
		{Bucket: "Bad_Bucket", ID: "k"},
		{Bucket: ".tmp", ID: "k"},
	} {
		if err := put(t, r, key, "x"); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Put %s: %v", key, err)
		}
		if _, _, err := r.Get(t.Context(), key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Get %s: %v", key, err)
		}
		if _, err := r.Stat(t.Context(), key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Stat %s: %v", key, err)
		}
		if err := r.Delete(t.Context(), key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Delete %s: %v", key, err)
		}
	}
	if err := r.CreateBucket(t.Context(), "UPPER"); !errors.Is(err, objstore.ErrInvalidKey) {
		t.Errorf("CreateBucket UPPER: %v", err)
	}
}

func TestUnavailable(t *testing.T) {
	for _, tt := range []struct {
		name     string
		breakDir func(dir string) error
	}{
		// A file where the temporary directory should be.
		{"no temp dir", func(dir string) error {
			if err := os.RemoveAll(filepath.Join(dir, ".tmp")); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, ".tmp"), nil, 0o644)
		}},
		// A file where the bucket directory should be.
		{"bucket is a file", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "bkt"), nil, 0o644)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, dir := open(t)
			if err := tt.breakDir(dir); err != nil {
				t.Fatal(err)
			}
			err := put(t, r, objstore.Key{Bucket: "bkt", ID: "k"}, "x")
			if !errors.Is(err, objstore.ErrNoRemote) || errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Put: %v, want ErrNoRemote", err)
			}
		})
	}
}
