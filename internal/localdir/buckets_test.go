package localdir_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/localdir"
	"sphere.software/objstore/internal/remotetest"
)

var _ remotetest.Buckets = (*localdir.Remote)(nil)

func TestBuckets(t *testing.T) {
	remotetest.RunBuckets(t, func(t *testing.T) (remotetest.Buckets, string) {
		r, dir := open(t)
		return foreign{r, dir}, "bkt-"
	})
}

// mkfiles creates files (or, with a trailing "/", directories) under dir.
func mkfiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n)) // without a trailing separator
		if n[len(n)-1] == '/' {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// listed returns the keys and common prefixes of one page of q.
func listed(t *testing.T, r *localdir.Remote, bucket string, q objstore.ListQuery) []string {
	t.Helper()
	page, err := r.List(t.Context(), bucket, q)
	if err != nil {
		t.Fatalf("List %+v: %v", q, err)
	}
	var out []string
	for _, e := range page.Objects {
		out = append(out, e.Key)
	}
	return append(out, page.Prefixes...)
}

// TestDeleteBucketLeftovers checks that empty directories and sidecars
// without a body do not keep a bucket from being deleted, and go with it.
func TestDeleteBucketLeftovers(t *testing.T) {
	r, dir := open(t)
	key := objstore.Key{Bucket: "bkt", ID: "a/b/c"}
	if err := put(t, r, key, "x"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	mkfiles(t, filepath.Join(dir, "bkt"), "empty/dirs/", ".objstore-meta/stale/sidecar", ".objstore-meta/empty/")
	if got := listed(t, r, "bkt", objstore.ListQuery{}); len(got) != 0 {
		t.Errorf("List: %q, want nothing", got)
	}
	if err := r.DeleteBucket(t.Context(), "bkt"); err != nil {
		t.Fatalf("DeleteBucket: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bkt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bucket directory left: %v", err)
	}
}

// TestDeleteBucketForeignFiles checks that any file outside the sidecar
// tree keeps a bucket, even one that List cannot show.
func TestDeleteBucketForeignFiles(t *testing.T) {
	for _, name := range []string{"dropped.txt", "deep/er/file", "bad-utf8-\xff", ".objstore-meta-not"} {
		t.Run(name, func(t *testing.T) {
			r, dir := open(t)
			if err := r.CreateBucket(t.Context(), "bkt"); err != nil {
				t.Fatal(err)
			}
			mkfiles(t, filepath.Join(dir, "bkt"), name)
			err := r.DeleteBucket(t.Context(), "bkt")
			if !errors.Is(err, objstore.ErrBucketNotEmpty) || errors.Is(err, objstore.ErrNoRemote) {
				t.Errorf("DeleteBucket: %v, want ErrBucketNotEmpty", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "bkt", filepath.FromSlash(name))); err != nil {
				t.Errorf("file gone: %v", err)
			}
		})
	}
}

func TestListBucketsSkipsOthers(t *testing.T) {
	r, dir := open(t)
	mkfiles(t, dir, "file-not-bucket", "Bad_Name/", "ok-bucket/", "xn--reserved/")
	buckets, err := r.ListBuckets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets) != 1 || buckets[0].Name != "ok-bucket" || buckets[0].Created.IsZero() {
		t.Errorf("ListBuckets: %+v, want ok-bucket only", buckets)
	}
}

// TestBucketFileInTheWay checks a file where a bucket directory would be:
// the name is taken, but there is no such bucket.
func TestBucketFileInTheWay(t *testing.T) {
	r, dir := open(t)
	mkfiles(t, dir, "taken")
	if err := r.CreateBucket(t.Context(), "taken"); !errors.Is(err, objstore.ErrBucketExists) {
		t.Errorf("CreateBucket: %v, want ErrBucketExists", err)
	}
	if err := r.HeadBucket(t.Context(), "taken"); !errors.Is(err, objstore.ErrNoSuchBucket) {
		t.Errorf("HeadBucket: %v, want ErrNoSuchBucket", err)
	}
	if err := r.DeleteBucket(t.Context(), "taken"); !errors.Is(err, objstore.ErrNoSuchBucket) {
		t.Errorf("DeleteBucket: %v, want ErrNoSuchBucket", err)
	}
}

// TestBucketInvalidNames checks that names that are no bucket, among them
// path tricks, are refused by every bucket operation.
func TestBucketInvalidNames(t *testing.T) {
	r, _ := open(t)
	for _, name := range []string{".tmp", "..", ".", "a/b", "Bad_Name", ""} {
		errs := map[string]error{
			"CreateBucket": r.CreateBucket(t.Context(), name),
			"HeadBucket":   r.HeadBucket(t.Context(), name),
			"DeleteBucket": r.DeleteBucket(t.Context(), name),
		}
		_, errs["List"] = r.List(t.Context(), name, objstore.ListQuery{})
		for op, err := range errs {
			if !errors.Is(err, objstore.ErrInvalidBucket) || !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("%s %q: %v, want ErrInvalidBucket and ErrInvalidKey", op, name, err)
			}
		}
	}
}

// TestListStaysInBucket checks that prefixes which are no key's prefix, or
// would lead out of the bucket or into its sidecars, list nothing.
func TestListStaysInBucket(t *testing.T) {
	r, dir := open(t)
	for _, k := range []objstore.Key{{Bucket: "bkt", ID: "k"}, {Bucket: "other", ID: "secret"}} {
		if err := put(t, r, k, "x"); err != nil {
			t.Fatal(err)
		}
	}
	mkfiles(t, dir, ".tmp/put-1")
	for _, p := range []string{"../", "../other/", "./", "/", ".objstore-meta/", ".objstore-meta/k", "k/", "a//", "../.tmp/"} {
		if got := listed(t, r, "bkt", objstore.ListQuery{Prefix: p}); len(got) != 0 {
			t.Errorf("List prefix %q: %q, want nothing", p, got)
		}
	}
	if got := listed(t, r, "bkt", objstore.ListQuery{}); !slices.Equal(got, []string{"k"}) {
		t.Errorf("List: %q, want [k]", got)
	}
}

// TestListSkipsNonObjects checks that empty directories, files no key can
// name, and special files are no objects, and make no common prefix.
func TestListSkipsNonObjects(t *testing.T) {
	r, dir := open(t)
	if err := put(t, r, objstore.Key{Bucket: "bkt", ID: "real/obj"}, "x"); err != nil {
		t.Fatal(err)
	}
	bkt := filepath.Join(dir, "bkt")
	mkfiles(t, bkt, "empty/dir/", "badname/\xff", "bad\xffdir/file")
	if err := os.Symlink(filepath.Join(bkt, "real"), filepath.Join(bkt, "dirlink")); err != nil {
		t.Fatal(err)
	}
	for _, q := range []objstore.ListQuery{{}, {Delimiter: "/"}, {Delimiter: "/", MaxKeys: 1}} {
		want := []string{"real/obj"}
		if q.Delimiter != "" {
			want = []string{"real/"}
		}
		if got := listed(t, r, "bkt", q); !slices.Equal(got, want) {
			t.Errorf("List %+v: %q, want %q", q, got, want)
		}
	}
	page, err := r.List(t.Context(), "bkt", objstore.ListQuery{Delimiter: "/", MaxKeys: 1})
	if err != nil || page.Truncated {
		t.Errorf("List with one key: %+v, %v; want not truncated", page, err)
	}
}

// TestListPageSize checks that pages hold at most objstore.MaxListKeys
// keys, whatever MaxKeys asks for.
func TestListPageSize(t *testing.T) {
	r, dir := open(t)
	if err := r.CreateBucket(t.Context(), "bkt"); err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range objstore.MaxListKeys + 1 {
		names = append(names, fmt.Sprintf("d%d/k%04d", i%3, i))
	}
	mkfiles(t, filepath.Join(dir, "bkt"), names...)
	slices.Sort(names)
	for _, n := range []int{0, -1, objstore.MaxListKeys, 5000} {
		page, err := r.List(t.Context(), "bkt", objstore.ListQuery{MaxKeys: n})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Objects) != objstore.MaxListKeys || !page.Truncated || page.Next != names[objstore.MaxListKeys-1] {
			t.Errorf("MaxKeys %d: %d objects, truncated %v, next %q", n, len(page.Objects), page.Truncated, page.Next)
		}
	}
}
