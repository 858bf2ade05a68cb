package s3api

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/localdir"
	"sphere.software/objstore/internal/node"
)

// The write mode comes from X-Objstore-Write or x-amz-meta-objstore-write;
// two that disagree, or an unknown mode, are refused.
func TestParseWriteMode(t *testing.T) {
	for _, tc := range []struct {
		name      string
		hdr       http.Header
		back, set bool
		fails     bool
	}{
		{"none", http.Header{}, false, false, false},
		{"header back", http.Header{"X-Objstore-Write": {"back"}}, true, true, false},
		{"header through", http.Header{"X-Objstore-Write": {"through"}}, false, true, false},
		{"metadata back", http.Header{"X-Amz-Meta-Objstore-Write": {"back"}}, true, true, false},
		{"both agree", http.Header{"X-Objstore-Write": {"back"}, "X-Amz-Meta-Objstore-Write": {"back"}}, true, true, false},
		{"both disagree", http.Header{"X-Objstore-Write": {"back"}, "X-Amz-Meta-Objstore-Write": {"through"}}, false, false, true},
		{"unknown", http.Header{"X-Objstore-Write": {"later"}}, false, false, true},
	} {
		a, err := parseWriteAttrs(tc.hdr)
		if tc.fails {
			if code, status := codeOf(err); code != "InvalidArgument" || status != http.StatusBadRequest {
				t.Errorf("%s: err %v (%s %d), want InvalidArgument 400", tc.name, err, code, status)
			}
			continue
		}
		if err != nil || a.WriteBack != tc.back || a.WriteSet != tc.set {
			t.Errorf("%s: back %v set %v err %v; want back %v set %v", tc.name, a.WriteBack, a.WriteSet, err, tc.back, tc.set)
		}
		if len(a.UserMeta) != 0 {
			t.Errorf("%s: the write mode was kept as user metadata: %s", tc.name, a.UserMeta)
		}
	}
}

// downOrigin is the local directory origin with a switch: while down,
// every call the node makes of it fails as an unreachable origin's would.
type downOrigin struct {
	*localdir.Remote
	down *atomic.Bool
	// noDelete, when set, fails deletes alone.
	noDelete *atomic.Bool
}

func (o downOrigin) fail(op string) error {
	if o.down.Load() || (op == "delete" && o.noDelete != nil && o.noDelete.Load()) {
		return fmt.Errorf("origin %s: connection refused: %w", op, objstore.ErrNoRemote)
	}
	return nil
}

func (o downOrigin) Put(ctx context.Context, rec objstore.Record, body io.ReaderAt) error {
	if err := o.fail("put"); err != nil {
		return err
	}
	return o.Remote.Put(ctx, rec, body)
}

func (o downOrigin) Get(ctx context.Context, key objstore.Key) (io.ReadCloser, objstore.Record, error) {
	if err := o.fail("get"); err != nil {
		return nil, objstore.Record{}, err
	}
	return o.Remote.Get(ctx, key)
}

func (o downOrigin) Stat(ctx context.Context, key objstore.Key) (objstore.Record, error) {
	if err := o.fail("stat"); err != nil {
		return objstore.Record{}, err
	}
	return o.Remote.Stat(ctx, key)
}

func (o downOrigin) Delete(ctx context.Context, key objstore.Key) error {
	if err := o.fail("delete"); err != nil {
		return err
	}
	return o.Remote.Delete(ctx, key)
}

func (o downOrigin) HeadBucket(ctx context.Context, name string) error {
	if err := o.fail("head bucket"); err != nil {
		return err
	}
	return o.Remote.HeadBucket(ctx, name)
}

// newDownOriginEnv is newEnv over a downOrigin, with noDelete (may be nil)
// as its switch for deletes; it returns the switch for everything.
func newDownOriginEnv(t *testing.T, noDelete *atomic.Bool, mod func(*Config)) (*env, *atomic.Bool) {
	t.Helper()
	down := new(atomic.Bool)
	e := newEnvWith(t, t.TempDir(), func(r node.Remote) node.Remote {
		return downOrigin{Remote: r.(*localdir.Remote), down: down, noDelete: noDelete}
	}, mod)
	return e, down
}

// A multipart upload in write-back mode (here by its metadata key) is
// created, fed and completed while the origin is down, for a bucket the
// journal knows: the completed object is pending, served, and uploaded
// once the origin is back. Through mode (the default) still needs the
// origin to create one.
func TestWriteBackMultipartWithoutTheOrigin(t *testing.T) {
	e, down := newDownOriginEnv(t, nil, nil)
	ctx := t.Context()
	// The journal knows the bucket; this node never asked the origin.
	if _, err := e.node.Put(ctx, nodePut(objstore.Key{Bucket: testBucket, ID: "before"}, "x", `{}`)); err != nil {
		t.Fatal(err)
	}
	down.Store(true)
	noRetry := func(o *awss3.Options) { o.RetryMaxAttempts = 1 }
	key := aws.String("mp/back.bin")
	_, err := e.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: key}, noRetry)
	if code := apiCode(err); code != "ServiceUnavailable" {
		t.Fatalf("write-through CreateMultipartUpload without the origin: %v, want ServiceUnavailable", err)
	}
	created, err := e.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: key,
		Metadata: map[string]string{"objstore-write": "back", "job": "7"}}, noRetry)
	if err != nil {
		t.Fatalf("write-back CreateMultipartUpload without the origin: %v", err)
	}
	parts := []string{strings.Repeat("p", 3000), "tail"}
	var done []types.CompletedPart
	for i, p := range parts {
		out, err := e.client.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String(testBucket), Key: key, UploadId: created.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader(p)}, noRetry)
		if err != nil {
			t.Fatalf("UploadPart %d without the origin: %v", i+1, err)
		}
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}
	res, err := e.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: key,
		UploadId: created.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}, noRetry)
	if err != nil {
		t.Fatalf("write-back CompleteMultipartUpload without the origin: %v", err)
	}
	whole := strings.Join(parts, "")
	if want := fmt.Sprintf(`"%x"`, md5.Sum([]byte(whole))); aws.ToString(res.ETag) != want {
		t.Fatalf("Complete ETag %s, want %s", aws.ToString(res.ETag), want)
	}
	okey := objstore.Key{Bucket: testBucket, ID: *key}
	rec, err := e.node.Head(ctx, okey)
	if err != nil || node.UploadState(rec) != "pending" || rec.Level != objstore.LevelS3 {
		t.Fatalf("completed write-back object: %v %+v, want level 1 pending", err, rec)
	}
	if got, out := e.get(t, *key); got != whole || out.Metadata["job"] != "7" {
		t.Fatalf("pending object served %d bytes, meta %v", len(got), out.Metadata)
	}
	if _, _, err := e.origin.Get(ctx, okey); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("origin while down: %v, want nothing yet", err)
	}
	down.Store(false)
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec, err := e.node.Head(ctx, okey)
		if err == nil && node.UploadState(rec) == "uploaded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not uploaded 30 s after the origin came back: %v %+v", err, rec)
		}
		time.Sleep(50 * time.Millisecond)
	}
	body, _, err := e.origin.Get(ctx, okey)
	if err != nil {
		t.Fatalf("origin after the drain: %v", err)
	}
	defer body.Close()
	if got, err := io.ReadAll(body); err != nil || string(got) != whole {
		t.Fatalf("origin holds %d bytes (%v), want the completed object", len(got), err)
	}
}

// A write-back DeleteObject (by header) and DeleteObjects (by the default
// write mode) answer before the origin's copies are deleted, which here
// fail: meanwhile the keys are gone from GETs and from listings, which
// still read the origin; once the origin deletes again, the drain removes
// them there.
func TestWriteBackDeleteHiddenUntilDone(t *testing.T) {
	noDelete := new(atomic.Bool)
	e, _ := newDownOriginEnv(t, noDelete, func(c *Config) { c.DefaultWriteBack = true })
	ctx := t.Context()
	through := map[string]string{"objstore-write": "through"}
	keys := []string{"one", "two", "three", "kept"}
	for _, k := range keys {
		if _, err := e.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(k),
			Body: strings.NewReader(k), Metadata: through}); err != nil {
			t.Fatal(err)
		}
	}
	noDelete.Store(true)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, e.srv.URL+"/"+testBucket+"/one", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Objstore-Write", "back")
	e.sign(t, req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Objstore-Upload") != "pending" {
		t.Fatalf("write-back DeleteObject: %s, X-Objstore-Upload %q; want 204 pending", resp.Status, resp.Header.Get("X-Objstore-Upload"))
	}
	out, err := e.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: aws.String(testBucket), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("two")}, {Key: aws.String("three")}}}})
	if err != nil || len(out.Errors) != 0 || len(out.Deleted) != 2 {
		t.Fatalf("write-back DeleteObjects: %v %+v", err, out)
	}
	gone := keys[:3]
	list, err := e.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "kept" {
		t.Fatalf("ListObjectsV2 with the deletes pending: %v, %d keys; want kept alone", err, len(list.Contents))
	}
	for _, k := range gone {
		if err := originHolds(e, k); err != nil {
			t.Fatalf("origin copy of %s while its delete is pending: %v", k, err)
		}
		if _, err := e.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(k)}); apiCode(err) != "NoSuchKey" {
			t.Fatalf("GetObject %s with its delete pending: %v, want NoSuchKey", k, err)
		}
	}
	noDelete.Store(false)
	deadline := time.Now().Add(30 * time.Second)
	for _, k := range gone {
		for {
			err := originHolds(e, k)
			if errors.Is(err, objstore.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("origin still holds %s 30 s after deletes work again: %v", k, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got, _ := e.get(t, "kept"); got != "kept" {
		t.Fatalf("kept reads %q", got)
	}
}

// originHolds reports, as an error or nil, whether the origin holds key k
// of the test bucket.
func originHolds(e *env, k string) error {
	body, _, err := e.origin.Get(context.Background(), objstore.Key{Bucket: testBucket, ID: k})
	if err != nil {
		return err
	}
	return body.Close()
}

// A bucket whose objects are all deleted in write-back mode lists empty,
// and DeleteBucket deletes it once the origin is back without waiting for
// the outbox: it does the bucket's pending deletes first, where the origin
// would refuse a bucket that still holds them (BucketNotEmpty).
func TestDeleteBucketDoesItsPendingDeletes(t *testing.T) {
	e, down := newDownOriginEnv(t, nil, nil)
	ctx := t.Context()
	const bucket = "short-lived"
	if _, err := e.client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"),
		Body: strings.NewReader("body")}); err != nil {
		t.Fatal(err)
	}
	down.Store(true)
	if _, err := e.node.DeleteBack(ctx, objstore.Key{Bucket: bucket, ID: "k"}); err != nil {
		t.Fatal(err)
	}
	// The drain tries once and backs off for a second: DeleteBucket comes
	// within it.
	deadline := time.Now().Add(10 * time.Second)
	for e.node.OutboxStats().Failed == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the drain did not try the delete")
		}
		time.Sleep(5 * time.Millisecond)
	}
	down.Store(false)
	if _, err := e.client.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("DeleteBucket of a bucket whose objects are all deleted, origin back: %v", err)
	}
	if err := e.origin.HeadBucket(ctx, bucket); !errors.Is(err, objstore.ErrNoSuchBucket) {
		t.Fatalf("origin bucket after DeleteBucket: %v, want gone", err)
	}
}
