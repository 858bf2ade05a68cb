package s3api

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// withLevel is an SDK option that sends X-Meta-ConsistencyLevel.
func withLevel(level string) func(*awss3.Options) {
	return func(o *awss3.Options) {
		o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("X-Meta-ConsistencyLevel", level))
	}
}

func (e *env) put(t *testing.T, key, body string, opts ...func(*awss3.Options)) {
	t.Helper()
	_, err := e.client.PutObject(t.Context(), &awss3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key),
		Body: strings.NewReader(body)}, opts...)
	if err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

// writeForeign writes a file straight into the origin directory, as a tool
// other than objstore would.
func (e *env) writeForeign(t *testing.T, dir, key, body string) {
	t.Helper()
	p := filepath.Join(dir, "origin", testBucket, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// listAll lists the bucket page by page and returns keys and prefixes in
// the order the pages gave them.
func (e *env) listAll(t *testing.T, prefix, delim string, pageSize int32) []string {
	t.Helper()
	var out []string
	in := &awss3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(pageSize)}
	if delim != "" {
		in.Delimiter = aws.String(delim)
	}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("listing does not end")
		}
		res, err := e.client.ListObjectsV2(t.Context(), in)
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		var page []string
		for _, o := range res.Contents {
			page = append(page, aws.ToString(o.Key))
		}
		for _, p := range res.CommonPrefixes {
			page = append(page, aws.ToString(p.Prefix))
		}
		slices.Sort(page) // objects and prefixes interleave in key order
		out = append(out, page...)
		if int(aws.ToInt32(res.KeyCount)) != len(page) {
			t.Fatalf("KeyCount %d, page of %d", aws.ToInt32(res.KeyCount), len(page))
		}
		if !aws.ToBool(res.IsTruncated) {
			return out
		}
		in.ContinuationToken = res.NextContinuationToken
	}
}

func TestMergedListing(t *testing.T) {
	dir := t.TempDir()
	e := newEnvIn(t, dir, nil)
	// In the origin only (foreign), in both (level 1), in the cluster only
	// (level 0), and deleted by the cluster while the origin keeps a copy.
	e.writeForeign(t, dir, "a/foreign", "f")
	e.writeForeign(t, dir, "z-foreign", "f")
	e.put(t, "a/level1", "one")
	e.put(t, "b/c/level1", "one")
	e.put(t, "a/level0", "zero", withLevel("0"))
	e.put(t, "top0", "zero", withLevel("0"))
	e.put(t, "d/hidden", "new", withLevel("0"))
	if _, err := e.client.DeleteObject(t.Context(), &awss3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("d/hidden")}); err != nil {
		t.Fatal(err)
	}
	// A copy the delete could not remove (the origin was down then).
	e.writeForeign(t, dir, "d/hidden", "old")
	all := []string{"a/foreign", "a/level0", "a/level1", "b/c/level1", "top0", "z-foreign"}
	tests := []struct {
		prefix, delim string
		want          []string
	}{
		{"", "", all},
		{"a/", "", []string{"a/foreign", "a/level0", "a/level1"}},
		{"", "/", []string{"a/", "b/", "top0", "z-foreign"}},
		{"b/", "/", []string{"b/c/"}},
		{"d/", "", nil},
		{"t", "/", []string{"top0"}},
	}
	for _, tt := range tests {
		for _, size := range []int32{1, 2, 3, 1000} {
			got := e.listAll(t, tt.prefix, tt.delim, size)
			if !slices.Equal(got, tt.want) {
				t.Errorf("prefix %q delimiter %q pages of %d: %q, want %q", tt.prefix, tt.delim, size, got, tt.want)
			}
		}
	}
	// Sizes and ETags of keys both sides hold are the cluster's.
	res, err := e.client.ListObjectsV2(t.Context(), &awss3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String("a/level1")})
	if err != nil || len(res.Contents) != 1 || aws.ToInt64(res.Contents[0].Size) != 3 {
		t.Fatalf("listing a/level1: %v %+v", err, res)
	}
	// ListObjects (v1) with a marker.
	v1, err := e.client.ListObjects(t.Context(), &awss3.ListObjectsInput{Bucket: aws.String(testBucket), Marker: aws.String("a/level1")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range v1.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if !slices.Equal(keys, all[3:]) {
		t.Fatalf("ListObjects after a/level1: %q, want %q", keys, all[3:])
	}
}
