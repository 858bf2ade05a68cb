package integration

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestOutboxDelete: with the S3 API's write mode back by default, deletes
// answer while the origin is down (S3 DeleteObject and DeleteObjects, and a
// native DELETE with X-Meta-Write: back); the keys read as deleted; the
// pending deletes survive kill -9 of the node; and once
// the origin is back the objects are gone from it, except the key written
// again after its delete, which keeps the newer body.
func TestOutboxDelete(t *testing.T) {
	o := newOrigin(t)
	sw, n := startBehindSwitch(t, o, "--s3-write-mode=back")
	ctx := context.Background()
	ids := make([]string, 5) // DeleteObject, DeleteObjects ×2, native, written again
	for i := range ids {
		ids[i] = newID()
		n.MustPut(t, ids[i], 1, randomBody(uint64(i), 2000))
	}
	deleted, again := ids[:4], ids[4]
	if m := outboxMissing(t, o, map[string][]byte{ids[0]: randomBody(0, 2000)}); len(m) > 0 {
		t.Fatalf("through PUT not in the origin: %v", m)
	}

	sw.set(true)
	for _, id := range []string{ids[0], again} {
		r := n.s3Do(ctx, t, http.MethodDelete, "/"+o.Bucket+"/"+id, nil)
		wantStatus(t, r, http.StatusNoContent, "DeleteObject with the origin down")
		if got := r.Header.Get("X-Objstore-Upload"); got != "pending" {
			t.Fatalf("DeleteObject with the origin down: X-Objstore-Upload %q, want pending", got)
		}
	}
	doc := fmt.Sprintf("<Delete><Object><Key>%s</Key></Object><Object><Key>%s</Key></Object></Delete>", ids[1], ids[2])
	sum := md5.Sum([]byte(doc))
	r := n.s3Do(ctx, t, http.MethodPost, "/"+o.Bucket+"?delete", []byte(doc), "Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	wantStatus(t, r, http.StatusOK, "DeleteObjects with the origin down")
	if strings.Contains(string(r.Body), "<Error>") {
		t.Fatalf("DeleteObjects with the origin down: %s", r.Body)
	}
	r = n.Do(t, http.MethodPost, "/api/v1/delete/"+ids[3], nil, "X-Meta-Write", "back")
	wantStatus(t, r, http.StatusOK, "native write-back DELETE with the origin down")
	if got := r.Header.Get("X-Meta-Upload"); got != "pending" {
		t.Fatalf("native write-back DELETE: X-Meta-Upload %q, want pending", got)
	}
	newer := randomBody(99, 3000)
	wantStatus(t, n.s3Do(ctx, t, http.MethodPut, "/"+o.Bucket+"/"+again, newer), http.StatusOK, "S3 PUT after the delete")

	n.Kill()
	n.Restart(t)
	for _, id := range deleted {
		wantStatus(t, n.Get(t, id), http.StatusNotFound, "GET after a write-back delete and kill -9, origin down")
	}
	if s, err := n.outbox(); err != nil || s.Depth != 5 {
		t.Fatalf("outbox after kill -9: %+v %v, want 4 deletes and 1 upload", s, err)
	}
	for _, id := range deleted {
		if _, ok := o.getIfThere(t, id); !ok {
			t.Fatalf("%s left the origin while it was down", id)
		}
	}

	sw.set(false)
	outboxDrained(t, n, time.Minute)
	for _, id := range deleted {
		if _, ok := o.getIfThere(t, id); ok {
			t.Errorf("%s still in the origin after the drain", id)
		}
	}
	if m := outboxMissing(t, o, map[string][]byte{again: newer}); len(m) > 0 {
		t.Fatalf("the key written after its delete: %v", m)
	}
	// Counted just after the journal commit that emptied the outbox; the
	// delete of the key written again was replaced by its PUT.
	eventually(t, 10*time.Second, "4 deletes and 1 upload counted", func() error {
		if s, err := n.outbox(); err != nil || s.Deleted != 4 || s.Uploaded != 1 {
			return fmt.Errorf("outbox %+v %v", s, err)
		}
		return nil
	})
}

// TestOutboxDeleteBucket: DeleteBucket of a bucket whose last object has a
// write-back delete still pending (the origin was down when it was asked,
// and the drain has failed it once) does that delete first: versitygw,
// which refuses to delete a bucket that holds objects, never answers
// BucketNotEmpty, and the bucket is gone from the origin.
func TestOutboxDeleteBucket(t *testing.T) {
	o := newOrigin(t)
	sw, n := startBehindSwitch(t, o, "--s3-write-mode=back")
	ctx := context.Background()
	const bucket = "objstore-it-short-lived"
	wantStatus(t, n.s3Do(ctx, t, http.MethodPut, "/"+bucket, nil), http.StatusOK, "CreateBucket")
	wantStatus(t, n.s3Do(ctx, t, http.MethodPut, "/"+bucket+"/k", randomBody(1, 2000)), http.StatusOK, "PUT")
	outboxDrained(t, n, 30*time.Second)
	if _, err := o.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")}); err != nil {
		t.Fatalf("the object is not in the origin after the drain: %v", err)
	}

	sw.set(true)
	r := n.s3Do(ctx, t, http.MethodDelete, "/"+bucket+"/k", nil)
	wantStatus(t, r, http.StatusNoContent, "DeleteObject with the origin down")
	if got := r.Header.Get("X-Objstore-Upload"); got != "pending" {
		t.Fatalf("DeleteObject with the origin down: X-Objstore-Upload %q, want pending", got)
	}
	eventually(t, 30*time.Second, "the drain failed the delete once", func() error {
		if s, err := n.outbox(); err != nil || s.Failed == 0 || s.Depth != 1 {
			return fmt.Errorf("outbox %+v %v", s, err)
		}
		return nil
	})
	sw.set(false)
	// At once, inside the drain's backoff: DeleteBucket must do the delete
	// itself. It may be refused while the node still counts the origin as
	// down (503), never for the object.
	eventually(t, 30*time.Second, "DeleteBucket", func() error {
		r := n.s3Do(ctx, t, http.MethodDelete, "/"+bucket, nil)
		switch {
		case r.Status == http.StatusNoContent:
			return nil
		case r.Status == http.StatusConflict || strings.Contains(string(r.Body), "BucketNotEmpty"):
			t.Fatalf("DeleteBucket with only a pending delete in it: %s", r)
		}
		return fmt.Errorf("DeleteBucket: %s", r)
	})
	if _, err := o.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		t.Fatalf("the bucket is still in the origin after DeleteBucket")
	}
	if s, err := n.outbox(); err != nil || s.Depth != 0 {
		t.Fatalf("outbox after DeleteBucket: %+v %v, want empty", s, err)
	}
}
