package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3APINativeInterop checks that the S3 API and the native API are two
// views of the same objects: the native API's ids are keys of the node's
// bucket, a ULID key written through S3 is a native id, and a delete
// through either is seen by both. It also checks how the S3 API meets the
// origin: objects only the origin has are listed and read through, and the
// consistency level decides which writes reach it.
func TestS3APINativeInterop(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	ctx := testCtx(t, 2*time.Minute)
	c := sdkClient(n.s3Endpoint())
	t.Run("native put, S3 get, S3 delete", func(t *testing.T) { checkNativeToS3(ctx, t, o, n, c) })
	t.Run("S3 put, native get, native delete", func(t *testing.T) { checkS3ToNative(ctx, t, o, n, c) })
	t.Run("read-through of an origin-only object", func(t *testing.T) { checkReadThrough(ctx, t, o, c) })
	t.Run("levels", func(t *testing.T) { checkS3Levels(ctx, t, o, n, c) })
	t.Run("delete of a level-0 overwrite of an origin object", func(t *testing.T) { checkShadowedDelete(ctx, t, o, c) })
}

// checkShadowedDelete writes an object straight into the origin, overwrites
// it through the node at level 0 (the origin keeps the old copy), and
// deletes it: the origin's copy goes too, so it cannot come back once the
// tombstone expires.
func checkShadowedDelete(ctx context.Context, t *testing.T, o *origin, c *s3.Client) {
	key := "shadowed/old.bin"
	if _, err := o.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(randomBody(305, 4<<10))}); err != nil {
		t.Fatalf("origin PutObject %s: %v", key, err)
	}
	newer := randomBody(306, 4<<10)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(newer)}, withHeader("X-Meta-ConsistencyLevel", "0")); err != nil {
		t.Fatalf("S3 PutObject %s at level 0: %v", key, err)
	}
	if _, ok := o.headKey(t, o.Bucket, key); !ok {
		t.Fatalf("the origin lost its copy of %s on a level-0 PUT", key)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key)}); err != nil {
		t.Fatalf("S3 DeleteObject %s: %v", key, err)
	}
	if _, ok := o.headKey(t, o.Bucket, key); ok {
		t.Errorf("the origin still holds %s after the delete", key)
	}
}

func checkNativeToS3(ctx context.Context, t *testing.T, o *origin, n *Node, c *s3.Client) {
	id := newID()
	body := randomBody(301, 64<<10)
	n.MustPut(t, id, 1, body, "X-Meta-Name", "native.bin")
	got, out := s3Get(ctx, t, c, o.Bucket, id)
	wantBody(t, got, body, "S3 GET of a native object")
	wantEq(t, "S3 ETag of a native object", aws.ToString(out.ETag), `"`+md5Hex(body)+`"`)

	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(id)}); err != nil {
		t.Fatalf("S3 DeleteObject %s: %v", id, err)
	}
	r := n.Get(t, id)
	wantStatus(t, r, http.StatusNotFound, "native GET after an S3 delete")
	wantHeader(t, r, "X-Meta-Deleted", "true", "native GET after an S3 delete")
	if _, ok := o.Head(t, id); ok {
		t.Errorf("%s deleted through S3 is still in the origin", id)
	}
}

func checkS3ToNative(ctx context.Context, t *testing.T, o *origin, n *Node, c *s3.Client) {
	id := newID()
	body := randomBody(302, 80<<10)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(id),
		Body: bytes.NewReader(body), ContentType: aws.String("application/x-test")}); err != nil {
		t.Fatalf("S3 PutObject %s: %v", id, err)
	}
	r := n.MustGet(t, id, body)
	wantHeader(t, r, "Content-Type", "application/x-test", "native GET of an S3 object")
	got, _ := o.Get(t, id)
	wantBody(t, got, body, "origin's copy of an S3 object (level 1 by default)")

	wantStatus(t, n.Do(t, http.MethodPost, "/api/v1/delete/"+id, nil), http.StatusOK, "native delete")
	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(id)})
	if !isNotFound(err) {
		t.Errorf("S3 HeadObject after a native delete: %v, want 404", err)
	}
	r = n.s3Do(ctx, t, http.MethodGet, "/"+o.Bucket+"/"+id, nil)
	wantS3Error(t, r, http.StatusNotFound, "NoSuchKey", "S3 GET after a native delete")
	if keys := s3Keys(ctx, t, c, o.Bucket, ""); slices.Contains(keys, id) {
		t.Errorf("S3 listing after a native delete still has %s: %q", id, keys)
	}
}

// checkReadThrough writes an object straight to the origin and reads it
// through the node's S3 API.
func checkReadThrough(ctx context.Context, t *testing.T, o *origin, c *s3.Client) {
	key := "origin-only/report.csv"
	body := randomBody(303, 300<<10)
	if _, err := o.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("origin PutObject %s: %v", key, err)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(o.Bucket), Prefix: aws.String("origin-only/")})
	if err != nil {
		t.Fatalf("S3 ListObjectsV2: %v", err)
	}
	if len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != key || aws.ToInt64(out.Contents[0].Size) != int64(len(body)) {
		t.Errorf("S3 listing of origin-only/: %s, want %s of %d bytes", listing(out), key, len(body))
	}
	got, _ := s3Get(ctx, t, c, o.Bucket, key)
	wantBody(t, got, body, "S3 GET of an origin-only object")
}

// checkS3Levels writes at level 0 (by header and by metadata) and at the
// default level 1: all are listed by the node, only level 1 by the origin.
func checkS3Levels(ctx context.Context, t *testing.T, o *origin, n *Node, c *s3.Client) {
	body := randomBody(304, 10<<10)
	puts := []struct {
		key   string
		level string
		opts  []func(*s3.Options)
		meta  map[string]string
	}{
		{"levels/zero-header", "0", []func(*s3.Options){withHeader("X-Meta-ConsistencyLevel", "0")}, nil},
		{"levels/zero-meta", "0", nil, map[string]string{"objstore-level": "0"}},
		{"levels/one-default", "1", nil, nil},
	}
	for _, p := range puts {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(p.key),
			Body: bytes.NewReader(body), Metadata: p.meta}, p.opts...); err != nil {
			t.Fatalf("S3 PutObject %s: %v", p.key, err)
		}
	}
	wantKeys := []string{"levels/one-default", "levels/zero-header", "levels/zero-meta"}
	if keys := s3Keys(ctx, t, c, o.Bucket, "levels/"); !slices.Equal(keys, wantKeys) {
		t.Errorf("objstore's listing of levels/: %q, want %q", keys, wantKeys)
	}
	if keys := originKeys(ctx, t, o, "levels/"); !slices.Equal(keys, []string{"levels/one-default"}) {
		t.Errorf("origin's listing of levels/: %q, want only the level-1 object", keys)
	}
	for _, p := range puts {
		r := n.s3Do(ctx, t, http.MethodHead, "/"+o.Bucket+"/"+p.key, nil)
		wantStatus(t, r, http.StatusOK, "S3 HEAD "+p.key)
		wantHeader(t, r, "X-Meta-Consistencylevel", p.level, "S3 HEAD "+p.key)
		if v := r.Header.Get("X-Amz-Meta-Objstore-Level"); v != "" {
			t.Errorf("S3 HEAD %s: the level came back as user metadata objstore-level=%s", p.key, v)
		}
		got, _ := s3Get(ctx, t, c, o.Bucket, p.key)
		wantBody(t, got, body, "S3 GET "+p.key)
	}
}

// TestS3APIClusterInterop checks the S3 API across a two-node cluster: an
// object put through one node's S3 API is read through the other's, and a
// delete through the second is seen on the first.
func TestS3APIClusterInterop(t *testing.T) {
	cl := StartCluster(t, 2, ClusterOpts{})
	a, b := cl.Nodes[0], cl.Nodes[1]
	bucket := cl.Origin.Bucket
	ctx := testCtx(t, 2*time.Minute)
	ca, cb := sdkClient(a.s3Endpoint()), sdkClient(b.s3Endpoint())

	for _, tc := range []struct {
		name, key, level string
	}{
		{"level 1", "cluster/level-1.bin", "1"},
		{"level 0", "cluster/level-0.bin", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := randomBody(uint64(len(tc.key)), 256<<10)
			if _, err := ca.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(tc.key),
				Body: bytes.NewReader(body)}, withHeader("X-Meta-ConsistencyLevel", tc.level)); err != nil {
				t.Fatalf("PutObject %s through node A: %v", tc.key, err)
			}
			eventually(t, 20*time.Second, "node B's S3 API serves "+tc.key, func() error {
				return s3Has(ctx, cb, bucket, tc.key, body)
			})
			if _, err := cb.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(tc.key)}); err != nil {
				t.Fatalf("DeleteObject %s through node B: %v", tc.key, err)
			}
			eventually(t, 20*time.Second, "node A's S3 API sees the delete of "+tc.key, func() error {
				return s3Has(ctx, ca, bucket, tc.key, nil)
			})
			if keys := s3Keys(ctx, t, ca, bucket, "cluster/"); slices.Contains(keys, tc.key) {
				t.Errorf("node A lists %s after node B deleted it: %q", tc.key, keys)
			}
			if _, ok := cl.Origin.headKey(t, bucket, tc.key); ok {
				t.Errorf("%s deleted through node B is in the origin", tc.key)
			}
		})
	}
}

// s3Has checks that key reads as want through c, or, for a nil want, that
// it is not found.
func s3Has(ctx context.Context, c *s3.Client, bucket, key string, want []byte) error {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if want == nil {
		if err == nil {
			_ = out.Body.Close() // unread: the object should not be there
			return fmt.Errorf("GET %s: 200, want 404", key)
		}
		if !isNotFound(err) {
			return fmt.Errorf("GET %s: %v, want 404", key, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("GET %s: %w", key, err)
	}
	defer func() { _ = out.Body.Close() }() // read-only body, fully read below
	got, err := io.ReadAll(out.Body)
	if err != nil {
		return fmt.Errorf("GET %s: read: %w", key, err)
	}
	if sum(got) != sum(want) {
		return fmt.Errorf("GET %s: %d bytes sha256 %.12s, want %d bytes sha256 %.12s", key, len(got), sum(got), len(want), sum(want))
	}
	return nil
}

// s3Get reads bucket/key through c, failing the test on an error.
func s3Get(ctx context.Context, t testing.TB, c *s3.Client, bucket, key string) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("S3 GetObject %s/%s: %v", bucket, key, err)
	}
	defer func() { _ = out.Body.Close() }() // read-only body, fully read below
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("S3 GetObject %s/%s: read: %v", bucket, key, err)
	}
	return b, out
}

// s3Keys lists every key under prefix through c.
func s3Keys(ctx context.Context, t testing.TB, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectsV2 %s prefix %q: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// originKeys lists every key under prefix in the origin's bucket directly.
func originKeys(ctx context.Context, t testing.TB, o *origin, prefix string) []string {
	t.Helper()
	return s3Keys(ctx, t, o.s3, o.Bucket, prefix)
}

// listing describes a listing page for a failure message.
func listing(out *s3.ListObjectsV2Output) string {
	var parts []string
	for _, o := range out.Contents {
		parts = append(parts, fmt.Sprintf("%s (%d bytes)", aws.ToString(o.Key), aws.ToInt64(o.Size)))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
