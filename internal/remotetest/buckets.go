package remotetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore"
)

// Buckets is the origin under test for RunBuckets: the bucket operations
// and listing, with Put and Delete to fill and empty buckets.
type Buckets interface {
	Put(ctx context.Context, rec objstore.Record, body io.ReaderAt) error
	Delete(ctx context.Context, key objstore.Key) error
	ListBuckets(ctx context.Context) ([]objstore.Bucket, error)
	CreateBucket(ctx context.Context, name string) error
	DeleteBucket(ctx context.Context, name string) error
	HeadBucket(ctx context.Context, name string) error
	List(ctx context.Context, bucket string, q objstore.ListQuery) (objstore.ListPage, error)
}

// RunBuckets runs the bucket and listing contract suite. newRemote is
// called once per subtest and returns a remote and a prefix for bucket
// names: the subtest creates buckets named prefix plus a few lowercase
// letters, which must be valid bucket names, and expects no other bucket
// to start with prefix. When the remote also implements ForeignWriter, the
// listing of foreign objects is checked too.
//
// The keys never hold both "k" and "k/...": S3 allows it, but origins kept
// in a file system (localdir, versitygw's posix backend) cannot.
func RunBuckets(t *testing.T, newRemote func(t *testing.T) (r Buckets, bucketPrefix string)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, r Buckets, prefix string)
	}{
		{"Lifecycle", testBucketLifecycle},
		{"CreateTwice", testCreateTwice},
		{"ListBuckets", testListBuckets},
		{"DeleteNotEmpty", testDeleteNotEmpty},
		{"MissingBucket", testMissingBucket},
		{"InvalidName", testInvalidBucketName},
		{"ListEmpty", testListEmpty},
		{"ListEntries", testListEntries},
		{"ListQueries", testListQueries},
		{"ListPaging", testListPaging},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, prefix := newRemote(t)
			tt.fn(t, r, prefix)
		})
	}
}

func mustCreate(t *testing.T, r Buckets, name string) {
	t.Helper()
	if err := r.CreateBucket(t.Context(), name); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

// bucketNames returns the names of the buckets that start with prefix.
func bucketNames(t *testing.T, r Buckets, prefix string) []string {
	t.Helper()
	buckets, err := r.ListBuckets(t.Context())
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	var names []string
	for _, b := range buckets {
		if strings.HasPrefix(b.Name, prefix) {
			names = append(names, b.Name)
		}
	}
	return names
}

// checkErr checks that err wraps want and not objstore.ErrNoRemote.
func checkErr(t *testing.T, op string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) || errors.Is(err, objstore.ErrNoRemote) {
		t.Errorf("%s: %v, want %v", op, err, want)
	}
}

func testBucketLifecycle(t *testing.T, r Buckets, prefix string) {
	name := prefix + "life"
	checkErr(t, "HeadBucket before CreateBucket", r.HeadBucket(t.Context(), name), objstore.ErrNoSuchBucket)
	mustCreate(t, r, name)
	if err := r.HeadBucket(t.Context(), name); err != nil {
		t.Errorf("HeadBucket: %v", err)
	}
	if got := bucketNames(t, r, prefix); !slices.Equal(got, []string{name}) {
		t.Errorf("ListBuckets after CreateBucket: %q", got)
	}
	if err := r.DeleteBucket(t.Context(), name); err != nil {
		t.Fatalf("DeleteBucket: %v", err)
	}
	checkErr(t, "HeadBucket after DeleteBucket", r.HeadBucket(t.Context(), name), objstore.ErrNoSuchBucket)
	if got := bucketNames(t, r, prefix); len(got) != 0 {
		t.Errorf("ListBuckets after DeleteBucket: %q", got)
	}
}

func testCreateTwice(t *testing.T, r Buckets, prefix string) {
	name := prefix + "twice"
	mustCreate(t, r, name)
	putKeys(t, r, name, []string{"kept"})
	mustCreate(t, r, name)
	page, err := r.List(t.Context(), name, objstore.ListQuery{})
	if err != nil || len(page.Objects) != 1 {
		t.Errorf("List after a second CreateBucket: %+v, %v; want the object kept", page, err)
	}
}

func testListBuckets(t *testing.T, r Buckets, prefix string) {
	start := time.Now()
	for _, s := range []string{"c", "a", "b"} {
		mustCreate(t, r, prefix+s)
	}
	buckets, err := r.ListBuckets(t.Context())
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	if !slices.IsSortedFunc(buckets, func(a, b objstore.Bucket) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("ListBuckets not sorted by name: %+v", buckets)
	}
	var names []string
	for _, b := range buckets {
		if !strings.HasPrefix(b.Name, prefix) {
			continue
		}
		names = append(names, b.Name)
		if !recent(b.Created, start) {
			t.Errorf("bucket %s created %v, want about %v", b.Name, b.Created, start)
		}
	}
	if want := []string{prefix + "a", prefix + "b", prefix + "c"}; !slices.Equal(names, want) {
		t.Errorf("ListBuckets: %q, want %q", names, want)
	}
}

// recent reports whether tm is between a little before start and a little
// after now, allowing for timestamps kept to the second.
func recent(tm, start time.Time) bool {
	const slack = 5 * time.Second
	return tm.After(start.Add(-slack)) && tm.Before(time.Now().Add(slack))
}

func testDeleteNotEmpty(t *testing.T, r Buckets, prefix string) {
	name := prefix + "full"
	mustCreate(t, r, name)
	keys := []string{"top", "deep/er/key"}
	putKeys(t, r, name, keys)
	for _, k := range keys {
		checkErr(t, "DeleteBucket of a bucket with objects", r.DeleteBucket(t.Context(), name), objstore.ErrBucketNotEmpty)
		if err := r.HeadBucket(t.Context(), name); err != nil {
			t.Fatalf("HeadBucket after a refused DeleteBucket: %v", err)
		}
		if err := r.Delete(t.Context(), objstore.Key{Bucket: name, ID: k}); err != nil {
			t.Fatalf("Delete %s: %v", k, err)
		}
	}
	if err := r.DeleteBucket(t.Context(), name); err != nil {
		t.Errorf("DeleteBucket once its objects are deleted: %v", err)
	}
	checkErr(t, "HeadBucket after DeleteBucket", r.HeadBucket(t.Context(), name), objstore.ErrNoSuchBucket)
}

func testMissingBucket(t *testing.T, r Buckets, prefix string) {
	name := prefix + "none"
	checkErr(t, "HeadBucket", r.HeadBucket(t.Context(), name), objstore.ErrNoSuchBucket)
	checkErr(t, "DeleteBucket", r.DeleteBucket(t.Context(), name), objstore.ErrNoSuchBucket)
	_, err := r.List(t.Context(), name, objstore.ListQuery{})
	checkErr(t, "List", err, objstore.ErrNoSuchBucket)
	_, err = r.List(t.Context(), name, objstore.ListQuery{Prefix: "a/", Delimiter: "/", StartAfter: "a/b", MaxKeys: 1})
	checkErr(t, "List with a query", err, objstore.ErrNoSuchBucket)
}

func testInvalidBucketName(t *testing.T, r Buckets, prefix string) {
	for _, name := range []string{"Upper_Case", "-" + prefix + "x", "a"} {
		checkErr(t, "CreateBucket "+name, r.CreateBucket(t.Context(), name), objstore.ErrInvalidBucket)
	}
}

func testListEmpty(t *testing.T, r Buckets, prefix string) {
	name := prefix + "empty"
	mustCreate(t, r, name)
	for _, q := range []objstore.ListQuery{{}, {Prefix: "a/", Delimiter: "/"}, {StartAfter: "x", MaxKeys: 1}} {
		page, err := r.List(t.Context(), name, q)
		if err != nil || len(page.Objects) != 0 || len(page.Prefixes) != 0 || page.Truncated {
			t.Errorf("List %+v of an empty bucket: %+v, %v", q, page, err)
		}
	}
}

// keyBody is the body putKeys writes under key.
func keyBody(key string) []byte { return Body(uint64(len(key)), 3*len(key)) }

// putKeys puts an object under each key of bucket.
func putKeys(t *testing.T, r Buckets, bucket string, keys []string) {
	t.Helper()
	for i, k := range keys {
		body := keyBody(k)
		rec := Record(objstore.Key{Bucket: bucket, ID: k}, body, uint64(i+1)<<16, objstore.LevelS3, "")
		if err := r.Put(t.Context(), rec, bytes.NewReader(body)); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
}

// checkEntry checks an entry against the body putKeys wrote (or want).
func checkEntry(t *testing.T, e objstore.ListEntry, want []byte, start time.Time) {
	t.Helper()
	etag := fmt.Sprintf(`"%x"`, md5.Sum(want))
	if e.Size != int64(len(want)) || e.ETag != etag || !recent(e.Modified, start) {
		t.Errorf("entry %+v: want size %d, ETag %s, modified about %v", e, len(want), etag, start)
	}
}

func testListEntries(t *testing.T, r Buckets, prefix string) {
	name := prefix + "entries"
	mustCreate(t, r, name)
	start := time.Now()
	keys := []string{"empty", "dir/small", "dir/sub/larger one"}
	bodies := map[string][]byte{"empty": {}, "dir/small": []byte("hello"), "dir/sub/larger one": Body(9, 100_000)}
	for _, k := range keys {
		rec := Record(objstore.Key{Bucket: name, ID: k}, bodies[k], 1<<16, objstore.LevelS3, "text/plain")
		if err := r.Put(t.Context(), rec, bytes.NewReader(bodies[k])); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
	if fw, ok := r.(ForeignWriter); ok {
		k := "foreign/file.txt"
		bodies[k] = []byte("written by another tool")
		if err := fw.WriteForeign(t.Context(), objstore.Key{Bucket: name, ID: k}, bodies[k], "text/plain"); err != nil {
			t.Fatalf("WriteForeign: %v", err)
		}
	}
	page, err := r.List(t.Context(), name, objstore.ListQuery{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Objects) != len(bodies) || len(page.Prefixes) != 0 || page.Truncated {
		t.Fatalf("List: %+v, want %d objects", page, len(bodies))
	}
	for _, e := range page.Objects {
		checkEntry(t, e, bodies[e.Key], start)
	}
}

// listKeys are the keys of the listing tests. They sort around the "/" of
// directories ("a-b" < "a.b" < "a/..." < "a0"), hold the delimiters "/" and
// "-" at several depths, spaces and non-ASCII letters, and "zz～" < "zz😀",
// which sort the other way in UTF-16.
var listKeys = []string{
	"a-b", "a.b", "a/b", "a/c-d", "a/c/d", "a/c/e", "a/c/f/g", "a0",
	"b/x", "b/y/z", "b/y-z", "c", "c d/e f", "sp ace",
	"ü/ö", "ü-x", "日本/語", "z€", "zz～", "zz😀",
}

// listItem is a key or, when prefix is true, a common prefix of a listing.
type listItem struct {
	key    string
	prefix bool
}

// refList computes the listing of keys by brute force from the
// definitions of objstore.ListQuery: the whole sequence of items after
// StartAfter, and whether it is longer than one page.
func refList(keys []string, q objstore.ListQuery) (page []listItem, truncated bool) {
	size := q.MaxKeys
	if size <= 0 || size > objstore.MaxListKeys {
		size = objstore.MaxListKeys
	}
	rollup := func(k string) string {
		if q.Delimiter == "" || !strings.HasPrefix(k, q.Prefix) {
			return ""
		}
		rest := k[len(q.Prefix):]
		if i := strings.Index(rest, q.Delimiter); i >= 0 {
			return q.Prefix + rest[:i+len(q.Delimiter)]
		}
		return ""
	}
	skip := rollup(q.StartAfter) // StartAfter stands for this common prefix
	var all []listItem
	for _, k := range slices.Sorted(slices.Values(keys)) {
		switch {
		case !strings.HasPrefix(k, q.Prefix), k <= q.StartAfter, skip != "" && strings.HasPrefix(k, skip):
			continue
		}
		it := listItem{key: k}
		if cp := rollup(k); cp != "" {
			it = listItem{key: cp, prefix: true}
		}
		if len(all) == 0 || all[len(all)-1] != it {
			all = append(all, it)
		}
	}
	if len(all) > size {
		return all[:size], true
	}
	return all, false
}

// pageItems returns the objects and common prefixes of page as one
// sequence, and reports problems with the page's form.
func pageItems(t *testing.T, what string, page objstore.ListPage, bodies map[string][]byte, start time.Time) []listItem {
	t.Helper()
	byKey := func(a, b listItem) int { return strings.Compare(a.key, b.key) }
	var items []listItem
	for _, e := range page.Objects {
		items = append(items, listItem{key: e.Key})
		checkEntry(t, e, bodies[e.Key], start)
	}
	if !slices.IsSortedFunc(items, byKey) || !slices.IsSorted(page.Prefixes) {
		t.Errorf("%s: objects or prefixes not in ascending order: %+v", what, page)
	}
	for _, p := range page.Prefixes {
		items = append(items, listItem{key: p, prefix: true})
	}
	slices.SortFunc(items, byKey)
	if page.Truncated && (len(items) == 0 || page.Next != items[len(items)-1].key) {
		t.Errorf("%s: truncated page with Next %q, want its last item", what, page.Next)
	}
	return items
}

// listFixture makes a bucket holding listKeys.
func listFixture(t *testing.T, r Buckets, prefix string) (bucket string, bodies map[string][]byte, start time.Time) {
	t.Helper()
	bucket = prefix + "list"
	mustCreate(t, r, bucket)
	start = time.Now()
	putKeys(t, r, bucket, listKeys)
	bodies = map[string][]byte{}
	for _, k := range listKeys {
		bodies[k] = keyBody(k)
	}
	return bucket, bodies, start
}

var (
	listPrefixes = []string{
		"", "a", "a/", "a/c", "a/c/", "a/c/f/g", "a/c/f/g/", "b", "b/y", "c", "c d/", "ü", "zz", "nope",
	}
	listDelimiters = []string{"", "/", "-", "c/"}
)

func testListQueries(t *testing.T, r Buckets, prefix string) {
	bucket, bodies, start := listFixture(t, r, prefix)
	startAfters := []string{"", "0", "a.b", "a/", "a/b", "a/bz", "a/c/", "a/c/e", "b", "ü-", "zzz"}
	var queries []objstore.ListQuery
	for _, p := range listPrefixes {
		for _, d := range listDelimiters {
			for _, sa := range startAfters {
				for _, n := range []int{1, 2, 1000} {
					queries = append(queries, objstore.ListQuery{Prefix: p, Delimiter: d, StartAfter: sa, MaxKeys: n})
				}
			}
		}
	}
	queries = append(queries, objstore.ListQuery{}, objstore.ListQuery{MaxKeys: 5000}, objstore.ListQuery{Delimiter: "/", MaxKeys: -1})
	for _, q := range queries {
		page, err := r.List(t.Context(), bucket, q)
		if err != nil {
			t.Fatalf("List %+v: %v", q, err)
		}
		what := fmt.Sprintf("List %+v", q)
		got := pageItems(t, what, page, bodies, start)
		want, truncated := refList(listKeys, q)
		if !slices.Equal(got, want) || page.Truncated != truncated {
			t.Errorf("%s:\n got %v, truncated %v\nwant %v, truncated %v", what, got, page.Truncated, want, truncated)
		}
	}
}

func testListPaging(t *testing.T, r Buckets, prefix string) {
	bucket, bodies, start := listFixture(t, r, prefix)
	for _, p := range listPrefixes {
		for _, d := range listDelimiters {
			for _, n := range []int{1, 2} {
				q := objstore.ListQuery{Prefix: p, Delimiter: d, MaxKeys: n}
				want, _ := refList(listKeys, objstore.ListQuery{Prefix: p, Delimiter: d})
				if got := pageThrough(t, r, bucket, q, bodies, start); !slices.Equal(got, want) {
					t.Errorf("paging %+v:\n got %v\nwant %v", q, got, want)
				}
			}
		}
	}
}

// pageThrough lists every page of q, each starting after the previous one's
// Next, and returns their items.
func pageThrough(t *testing.T, r Buckets, bucket string, q objstore.ListQuery, bodies map[string][]byte, start time.Time) []listItem {
	t.Helper()
	var all []listItem
	for range len(listKeys) + 2 {
		page, err := r.List(t.Context(), bucket, q)
		if err != nil {
			t.Fatalf("List %+v: %v", q, err)
		}
		items := pageItems(t, fmt.Sprintf("List %+v", q), page, bodies, start)
		if len(items) > q.MaxKeys {
			t.Errorf("List %+v: %d items", q, len(items))
		}
		all = append(all, items...)
		if !page.Truncated {
			return all
		}
		q.StartAfter = page.Next
	}
	t.Errorf("paging %+v: more pages than keys", q)
	return all
}
