package integration

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOutboxBound fills the outbox to --outbox-max-bytes while the origin
// is down: the next write-back PUT gets 507 on the native API and an S3
// error (503 ServiceUnavailable, naming the outbox) on the S3 API, and
// nothing acknowledged is lost. S3 PUTs are write-back by --s3-write-mode
// and show X-Objstore-Upload on HEAD. A write-back multipart upload whose
// completion would pass the bound is refused the same way and kept, parts
// and all. Once the origin is back the outbox drains and takes writes
// again, and the same completion succeeds.
func TestOutboxBound(t *testing.T) {
	o := newOrigin(t)
	sw, n := startBehindSwitch(t, o, "--outbox-max-bytes=100KiB", "--s3-write-mode=back")
	ctx := context.Background()
	sw.set(true)
	acked := map[string][]byte{}
	for i := range 3 {
		id := newID()
		body := append([]byte(id), randomBody(uint64(i), 30_000)...)
		if i == 2 {
			// Through the S3 API, write-back by the flag's default.
			r := n.s3Do(ctx, t, http.MethodPut, "/"+o.Bucket+"/"+id, body)
			wantStatus(t, r, http.StatusOK, "S3 PUT "+id)
			if got := r.Header.Get("X-Objstore-Upload"); got != "pending" {
				t.Fatalf("S3 PUT while the origin is down: X-Objstore-Upload %q, want pending", got)
			}
			head := n.s3Do(ctx, t, http.MethodHead, "/"+o.Bucket+"/"+id, nil)
			if got := head.Header.Get("X-Objstore-Upload"); got != "pending" {
				t.Fatalf("S3 HEAD while the origin is down: X-Objstore-Upload %q, want pending", got)
			}
		} else if r, err := n.outboxPut(id, 1, body); err != nil || r.Status != http.StatusOK {
			t.Fatalf("write-back PUT %d: %v %v", i, r, err)
		}
		acked[id] = body
	}
	over := append([]byte(nil), randomBody(9, 30_000)...)
	r, err := n.outboxPut(newID(), 1, over)
	if err != nil || r.Status != http.StatusInsufficientStorage {
		t.Fatalf("write-back PUT past the bound: %v %v, want 507", r, err)
	}
	t.Logf("native API past the bound: %s", r)
	r = n.s3Do(ctx, t, http.MethodPut, "/"+o.Bucket+"/"+newID(), over)
	if r.Status != http.StatusServiceUnavailable || !bytes.Contains(r.Body, []byte("<Code>ServiceUnavailable</Code>")) ||
		!strings.Contains(string(r.Body), "outbox full") {
		t.Fatalf("S3 PUT past the bound: %s, want 503 ServiceUnavailable naming the outbox", r)
	}
	complete := completeUnderBound(ctx, t, n, o.Bucket, over)
	s, err := n.outbox()
	if err != nil || s.Depth != 3 || s.Bytes > s.MaxBytes {
		t.Fatalf("outbox at the bound: %+v %v, want 3 uploads within the bound", s, err)
	}
	for id, body := range acked {
		n.MustGet(t, id, body)
	}
	sw.set(false)
	outboxDrained(t, n, time.Minute)
	if m := outboxMissing(t, o, acked); len(m) > 0 {
		t.Fatalf("%d acknowledged objects missing from the origin, first %s", len(m), m[0])
	}
	complete(t)
	id := newID()
	if r, err := n.outboxPut(id, 1, over); err != nil || r.Status != http.StatusOK {
		t.Fatalf("write-back PUT after the drain: %v %v", r, err)
	}
	eventually(t, 30*time.Second, "uploaded", func() error {
		head := n.s3Do(ctx, t, http.MethodHead, "/"+o.Bucket+"/"+id, nil)
		if got := head.Header.Get("X-Objstore-Upload"); got != "uploaded" {
			return fmt.Errorf("X-Objstore-Upload %q", got)
		}
		return nil
	})
}

// completeUnderBound creates a write-back multipart upload of body (one
// part) on n while the outbox is full, and checks that its completion is
// refused with 503 naming the outbox and that the upload is kept: its
// part is still listed. It returns the function that completes it again
// once the outbox has room, and checks the object reaches the origin.
func completeUnderBound(ctx context.Context, t *testing.T, n *Node, bucket string, body []byte) func(*testing.T) {
	t.Helper()
	path := "/" + bucket + "/" + newID()
	upload := createUpload(ctx, t, n, path) // "uploadId=..."
	r := n.s3Do(ctx, t, http.MethodPut, path+"?partNumber=1&"+upload, body)
	wantStatus(t, r, http.StatusOK, "UploadPart with the outbox full")
	doc := []byte(fmt.Sprintf("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>",
		r.Header.Get("ETag")))
	r = n.s3Do(ctx, t, http.MethodPost, path+"?"+upload, doc)
	if r.Status != http.StatusServiceUnavailable || !bytes.Contains(r.Body, []byte("<Code>ServiceUnavailable</Code>")) ||
		!strings.Contains(string(r.Body), "outbox full") {
		t.Fatalf("CompleteMultipartUpload past the bound: %s, want 503 ServiceUnavailable naming the outbox", r)
	}
	r = n.s3Do(ctx, t, http.MethodGet, path+"?"+upload, nil)
	wantStatus(t, r, http.StatusOK, "ListParts after the refused completion")
	if !bytes.Contains(r.Body, []byte("<PartNumber>1</PartNumber>")) {
		t.Fatalf("ListParts after the refused completion: %s, want part 1 kept", r.Body)
	}
	// Not found, or 503 for asking the origin, which is down: never the object.
	if head := n.s3Do(ctx, t, http.MethodHead, path, nil); head.Status == http.StatusOK {
		t.Fatalf("HEAD of the refused completion's object: 200, want it absent")
	}
	return func(t *testing.T) {
		t.Helper()
		r := n.s3Do(ctx, t, http.MethodPost, path+"?"+upload, doc)
		wantStatus(t, r, http.StatusOK, "CompleteMultipartUpload again once the outbox has room")
		var completed struct {
			ETag string `xml:"ETag"`
		}
		if err := xml.Unmarshal(r.Body, &completed); err != nil || completed.ETag != `"`+md5Hex(body)+`"` {
			t.Fatalf("CompleteMultipartUpload again: %s (%v), want the object's MD5 as its ETag", r.Body, err)
		}
		eventually(t, 30*time.Second, "the completed object uploaded", func() error {
			head := n.s3Do(ctx, t, http.MethodHead, path, nil)
			if got := head.Header.Get("X-Objstore-Upload"); got != "uploaded" {
				return fmt.Errorf("X-Objstore-Upload %q", got)
			}
			return nil
		})
		if get := n.s3Do(ctx, t, http.MethodGet, path, nil); get.Status != http.StatusOK || !bytes.Equal(get.Body, body) {
			t.Fatalf("GET of the completed object: %d, %d bytes, want %d", get.Status, len(get.Body), len(body))
		}
	}
}
