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

// TestOutboxMultipart: with the S3 API's write mode back by default, a
// multipart upload created, fed and completed while the origin is down
// answers 200 with the object pending, survives kill -9 of the node, and
// is in the origin byte for byte once the origin is back.
func TestOutboxMultipart(t *testing.T) {
	o := newOrigin(t)
	sw, n := startBehindSwitch(t, o, "--s3-write-mode=back")
	ctx := context.Background()
	acked := map[string][]byte{}
	before := newID()
	acked[before] = randomBody(1, 1000)
	wantStatus(t, n.s3Do(ctx, t, http.MethodPut, "/"+o.Bucket+"/"+before, acked[before]), http.StatusOK, "S3 PUT with the origin up")
	outboxDrained(t, n, 30*time.Second)

	sw.set(true)
	id := newID()
	path := "/" + o.Bucket + "/" + id
	upload := createUpload(ctx, t, n, path) // "uploadId=..."
	body := randomBody(2, 6<<20+123)
	var doc strings.Builder
	doc.WriteString("<CompleteMultipartUpload>")
	for i, part := range [][]byte{body[:5<<20], body[5<<20:]} {
		r := n.s3Do(ctx, t, http.MethodPut, fmt.Sprintf("%s?partNumber=%d&%s", path, i+1, upload), part)
		wantStatus(t, r, http.StatusOK, fmt.Sprintf("UploadPart %d with the origin down", i+1))
		fmt.Fprintf(&doc, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i+1, r.Header.Get("ETag"))
	}
	doc.WriteString("</CompleteMultipartUpload>")
	r := n.s3Do(ctx, t, http.MethodPost, path+"?"+upload, []byte(doc.String()))
	wantStatus(t, r, http.StatusOK, "CompleteMultipartUpload with the origin down")
	if got := r.Header.Get("X-Objstore-Upload"); got != "pending" {
		t.Fatalf("CompleteMultipartUpload with the origin down: X-Objstore-Upload %q, want pending", got)
	}
	var completed struct {
		ETag string `xml:"ETag"`
	}
	if err := xml.Unmarshal(r.Body, &completed); err != nil || completed.ETag != `"`+md5Hex(body)+`"` {
		t.Fatalf("CompleteMultipartUpload: %s (%v), want the object's MD5 as its ETag", r.Body, err)
	}
	acked[id] = body

	n.Kill()
	n.Restart(t)
	head := n.s3Do(ctx, t, http.MethodHead, path, nil)
	wantStatus(t, head, http.StatusOK, "HEAD after kill -9, origin down")
	if got := head.Header.Get("X-Objstore-Upload"); got != "pending" {
		t.Fatalf("HEAD after kill -9, origin down: X-Objstore-Upload %q, want pending", got)
	}
	get := n.s3Do(ctx, t, http.MethodGet, path, nil)
	wantStatus(t, get, http.StatusOK, "GET after kill -9, origin down")
	if !bytes.Equal(get.Body, body) {
		t.Fatalf("GET after kill -9: %d bytes, not the completed object's %d", len(get.Body), len(body))
	}

	sw.set(false)
	outboxDrained(t, n, time.Minute)
	if m := outboxMissing(t, o, acked); len(m) > 0 {
		t.Fatalf("acknowledged objects missing from the origin: %v", m)
	}
}
