package s3_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/objstoretest"
	"sphere.software/objstore/internal/remotetest"
	"sphere.software/objstore/internal/s3"
)

var _ remotetest.Buckets = (*s3.Remote)(nil)

func TestBuckets(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	var n atomic.Int64
	remotetest.RunBuckets(t, func(t *testing.T) (remotetest.Buckets, string) {
		prefix := fmt.Sprintf("bk%d-", n.Add(1))
		return foreign{newRemote(t, srv, prefix+"cfg"), srv.Client(t)}, prefix
	})
}

// cannedRemote returns a Remote whose requests h answers.
func cannedRemote(t *testing.T, h http.HandlerFunc) *s3.Remote {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "canned", "AWS_SECRET_ACCESS_KEY": "canned", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "",
	} {
		t.Setenv(k, v)
	}
	r, err := s3.New(t.Context(), s3.Config{Bucket: "canned", Endpoint: srv.URL, PathStyle: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// TestBucketErrors checks the mapping of S3's answers to the bucket
// sentinels, including answers versitygw does not give.
func TestBucketErrors(t *testing.T) {
	ctx := t.Context()
	for _, tt := range []struct {
		name   string
		status int
		code   string // the error code in the body; "" for none (HEAD)
		call   func(r *s3.Remote) error
		want   error // nil for success
	}{
		{"create taken", 409, "BucketAlreadyExists", func(r *s3.Remote) error { return r.CreateBucket(ctx, "bkt") }, objstore.ErrBucketExists},
		{"create owned", 409, "BucketAlreadyOwnedByYou", func(r *s3.Remote) error { return r.CreateBucket(ctx, "bkt") }, nil},
		{"create invalid", 400, "InvalidBucketName", func(r *s3.Remote) error { return r.CreateBucket(ctx, "bkt") }, objstore.ErrInvalidBucket},
		{"create denied", 403, "AccessDenied", func(r *s3.Remote) error { return r.CreateBucket(ctx, "bkt") }, objstore.ErrNoRemote},
		{"delete not empty", 409, "BucketNotEmpty", func(r *s3.Remote) error { return r.DeleteBucket(ctx, "bkt") }, objstore.ErrBucketNotEmpty},
		{"delete missing", 404, "NoSuchBucket", func(r *s3.Remote) error { return r.DeleteBucket(ctx, "bkt") }, objstore.ErrNoSuchBucket},
		{"head missing", 404, "", func(r *s3.Remote) error { return r.HeadBucket(ctx, "bkt") }, objstore.ErrNoSuchBucket},
		{"head denied", 403, "", func(r *s3.Remote) error { return r.HeadBucket(ctx, "bkt") }, objstore.ErrNoRemote},
		{"list missing", 404, "NoSuchBucket", func(r *s3.Remote) error { _, err := r.List(ctx, "bkt", objstore.ListQuery{}); return err }, objstore.ErrNoSuchBucket},
		{"list denied", 403, "AccessDenied", func(r *s3.Remote) error { _, err := r.List(ctx, "bkt", objstore.ListQuery{}); return err }, objstore.ErrNoRemote},
		{"list buckets denied", 403, "AccessDenied", func(r *s3.Remote) error { _, err := r.ListBuckets(ctx); return err }, objstore.ErrNoRemote},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := cannedRemote(t, func(w http.ResponseWriter, req *http.Request) {
				if tt.code == "" {
					w.WriteHeader(tt.status)
					return
				}
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, "<Error><Code>%s</Code><Message>canned</Message></Error>", tt.code)
			})
			err := tt.call(r)
			if tt.want == nil {
				if err != nil {
					t.Errorf("%v, want nil", err)
				}
				return
			}
			var s3err *s3.Error
			if !errors.Is(err, tt.want) || !errors.As(err, &s3err) {
				t.Errorf("%v, want an *s3.Error wrapping %v", err, tt.want)
			}
			for _, other := range []error{objstore.ErrNoRemote, objstore.ErrNoSuchBucket, objstore.ErrBucketNotEmpty, objstore.ErrBucketExists, objstore.ErrInvalidBucket} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("%v also wraps %v", err, other)
				}
			}
		})
	}
}

// listPages answers ListObjectsV2 requests with pages in turn, recording
// their queries.
type listPages struct {
	pages   []string
	mu      sync.Mutex // guards queries
	queries []url.Values
}

func (l *listPages) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	l.mu.Lock()
	n := len(l.queries)
	l.queries = append(l.queries, req.URL.Query())
	l.mu.Unlock()
	if n >= len(l.pages) {
		http.Error(w, "no more pages", http.StatusTeapot)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name>%s</ListBucketResult>`, l.pages[n])
}

// requests returns the queries of the requests so far.
func (l *listPages) requests() []url.Values {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.queries)
}

func contents(key, etag string) string {
	return "<Contents><Key>" + key + "</Key><LastModified>2024-05-06T07:08:09.000Z</LastModified><ETag>" + etag +
		"</ETag><Size>7</Size><StorageClass>STANDARD</StorageClass></Contents>"
}

// TestListAfterCommonPrefix checks that a listing after common prefix "a/"
// asks S3 to start after every key below it, drops what a lax server
// returns below it anyway, follows the continuation token when that leaves
// the page short, and quotes a bare ETag.
func TestListAfterCommonPrefix(t *testing.T) {
	l := &listPages{pages: []string{
		`<IsTruncated>true</IsTruncated><NextContinuationToken>tok1</NextContinuationToken>` +
			contents("a/\U0010FFFFz", `"1"`) + `<CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes>`,
		`<IsTruncated>false</IsTruncated>` + contents("b", "abc") + contents("c", `"2"`),
	}}
	r := cannedRemote(t, l.ServeHTTP)
	page, err := r.List(t.Context(), "bkt", objstore.ListQuery{Delimiter: "/", StartAfter: "a/", MaxKeys: 1})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := objstore.ListPage{
		Objects:   []objstore.ListEntry{{Key: "b", Size: 7, ETag: `"abc"`, Modified: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}},
		Truncated: true,
		Next:      "b",
	}
	if !reflect.DeepEqual(page, want) {
		t.Errorf("List:\n got %+v\nwant %+v", page, want)
	}
	reqs := l.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	first, second := reqs[0], reqs[1]
	if first.Get("start-after") != "a/\U0010FFFF" || first.Get("max-keys") != "2" || first.Get("delimiter") != "/" {
		t.Errorf("first request %v: want start-after a/U+10FFFF, max-keys 2 (one to look ahead), delimiter /", first)
	}
	if second.Get("continuation-token") != "tok1" {
		t.Errorf("second request %v: want continuation-token tok1", second)
	}
}

// TestListTrustsFullPage checks that a page of MaxListKeys keys, which
// cannot look ahead, is truncated when the server says so, and that larger
// pages are cut to that size.
func TestListTrustsFullPage(t *testing.T) {
	var b strings.Builder
	for i := range objstore.MaxListKeys {
		b.WriteString(contents(fmt.Sprintf("k%04d", i), `"e"`))
	}
	for _, n := range []int{0, objstore.MaxListKeys, 5000} {
		l := &listPages{pages: []string{`<IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken>` + b.String()}}
		r := cannedRemote(t, l.ServeHTTP)
		page, err := r.List(t.Context(), "bkt", objstore.ListQuery{MaxKeys: n})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		reqs := l.requests()
		if len(page.Objects) != objstore.MaxListKeys || !page.Truncated || page.Next != "k0999" || len(reqs) != 1 {
			t.Fatalf("MaxKeys %d: %d objects, truncated %v, next %q after %d requests", n, len(page.Objects), page.Truncated, page.Next, len(reqs))
		}
		if got := reqs[0].Get("max-keys"); got != "1000" {
			t.Errorf("MaxKeys %d: max-keys %s, want 1000", n, got)
		}
	}
}
