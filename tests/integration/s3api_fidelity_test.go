package integration

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestS3APIFidelity reproduces the ceph s3-tests that objstore failed on its
// own behaviour (issue 11, item 4), with aws-sdk-go-v2 and signed raw
// requests against a real node and origin.
func TestS3APIFidelity(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	ctx := testCtx(t, 3*time.Minute)
	c := sdkClient(n.s3Endpoint())
	t.Run("atomic dual write", func(t *testing.T) { checkDualWrite(ctx, t, o, n, c) })
	t.Run("repeated CompleteMultipartUpload", func(t *testing.T) { checkRepeatedComplete(ctx, t, o, c) })
	t.Run("bad Content-MD5", func(t *testing.T) { checkBadMD5(ctx, t, o, n) })
	t.Run("empty continuation-token", func(t *testing.T) { checkEmptyContinuation(ctx, t, o, n, c) })
}

// gatedReader yields head, then blocks until open is closed, then yields
// tail: a client whose upload stalls halfway.
type gatedReader struct {
	ctx        context.Context
	head, tail []byte
	open       <-chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if len(g.head) > 0 {
		k := copy(p, g.head)
		g.head = g.head[k:]
		return k, nil
	}
	select {
	case <-g.open:
	case <-g.ctx.Done():
		return 0, g.ctx.Err()
	}
	if len(g.tail) == 0 {
		return 0, io.EOF
	}
	k := copy(p, g.tail)
	g.tail = g.tail[k:]
	return k, nil
}

// checkDualWrite is s3-tests' test_atomic_dual_write_1mb: writer A starts
// a 1 MiB PUT, writer B PUTs the same key in full while A's body is still
// arriving, then A finishes. A finished last, so A's bytes are the object,
// as on S3.
func checkDualWrite(ctx context.Context, t *testing.T, o *origin, n *Node, c *s3.Client) {
	key := "fidelity/dual.bin"
	a, b := randomBody(1101, 1<<20), randomBody(1102, 1<<20)
	open := make(chan struct{})
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, n.s3URL("/"+o.Bucket+"/"+key),
		&gatedReader{ctx: ctx, head: a[:len(a)/2], tail: a[len(a)/2:], open: open})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(a))
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	signAt(ctx, t, req, testCreds, time.Now())
	done := make(chan *response, 1)
	go func() {
		defer close(done)
		r, err := n.send(req)
		if err != nil {
			t.Errorf("PUT A: %v", err)
			return
		}
		done <- r
	}()
	defer func() { // A is never left blocked, even when the test fails early
		select {
		case <-open:
		default:
			close(open)
		}
		<-done
	}()
	// A's write has begun on the node once its body is arriving on disk.
	eventually(t, time.Minute, "A's body arriving on the node", func() error {
		return tmpBodyArriving(filepath.Join(n.FilesDir, "tmp"))
	})
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(b)}); err != nil {
		t.Fatalf("PUT B: %v", err)
	}
	close(open)
	r := <-done
	if r == nil {
		t.FailNow()
	}
	wantStatus(t, r, http.StatusOK, "PUT A, finished after B")
	got := n.s3Do(ctx, t, http.MethodGet, "/"+o.Bucket+"/"+key, nil)
	wantStatus(t, got, http.StatusOK, "GET after both writes")
	if !bytes.Equal(got.Body, a) {
		t.Errorf("GET after both writes: got %s's bytes, want A's (the write that finished last)", whose(got.Body, b))
	}
}

// whose names the writer a body came from.
func whose(got, b []byte) string {
	if bytes.Equal(got, b) {
		return "B"
	}
	return fmt.Sprintf("neither writer (%d bytes)", len(got))
}

// tmpBodyArriving is nil once a file with bytes in it is in dir.
func tmpBodyArriving(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if info, err := e.Info(); err == nil && info.Size() > 0 {
			return nil
		}
	}
	return errors.New("no body in " + dir + " yet")
}

// checkRepeatedComplete is s3-tests' test_multipart_upload(_small): a
// CompleteMultipartUpload sent again on a completed upload answers the same
// result, as S3 does.
func checkRepeatedComplete(ctx context.Context, t *testing.T, o *origin, c *s3.Client) {
	for _, size := range []int{1 << 10, 6 << 20} {
		key := fmt.Sprintf("fidelity/mp-%d.bin", size)
		body := randomBody(uint64(1200+size), size)
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(o.Bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("CreateMultipartUpload %s: %v", key, err)
		}
		part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(o.Bucket), Key: aws.String(key),
			UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatalf("UploadPart %s: %v", key, err)
		}
		in := &s3.CompleteMultipartUploadInput{Bucket: aws.String(o.Bucket), Key: aws.String(key), UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}
		first, err := c.CompleteMultipartUpload(ctx, in)
		if err != nil {
			t.Fatalf("CompleteMultipartUpload %s: %v", key, err)
		}
		again, err := c.CompleteMultipartUpload(ctx, in)
		if err != nil {
			t.Fatalf("CompleteMultipartUpload %s again: %v, want the same result", key, err)
		}
		if aws.ToString(again.ETag) != aws.ToString(first.ETag) || aws.ToString(again.Location) != aws.ToString(first.Location) {
			t.Errorf("CompleteMultipartUpload %s again: ETag %s Location %s, want %s %s", key,
				aws.ToString(again.ETag), aws.ToString(again.Location), aws.ToString(first.ETag), aws.ToString(first.Location))
		}
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		data, err := io.ReadAll(got.Body)
		got.Body.Close()
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		wantBody(t, data, body, "GET "+key+" after two completions")
	}
}

// checkBadMD5 is s3-tests' test_object_create_bad_md5_*: an empty, a
// non-base64 or a wrong-length Content-MD5 is 400 InvalidDigest, a wrong
// digest is 400 BadDigest, on PutObject and UploadPart; nothing is stored.
func checkBadMD5(ctx context.Context, t *testing.T, o *origin, n *Node) {
	body := []byte("bar")
	other := md5.Sum([]byte("not bar"))
	path := "/" + o.Bucket + "/fidelity/md5.bin"
	upload := createUpload(ctx, t, n, path)
	for _, tc := range []struct{ name, value, code string }{
		{"empty", "", "InvalidDigest"},
		{"not base64", "YWJyYWNhZGFicmE=!", "InvalidDigest"},
		{"10 bytes", base64.StdEncoding.EncodeToString([]byte("0123456789")), "InvalidDigest"},
		{"another body's", base64.StdEncoding.EncodeToString(other[:]), "BadDigest"},
	} {
		r := n.s3Do(ctx, t, http.MethodPut, path, body, "Content-MD5", tc.value)
		wantS3Error(t, r, http.StatusBadRequest, tc.code, "PutObject with a Content-MD5 that is "+tc.name)
		r = n.s3Do(ctx, t, http.MethodPut, path+"?partNumber=1&"+upload, body, "Content-MD5", tc.value)
		wantS3Error(t, r, http.StatusBadRequest, tc.code, "UploadPart with a Content-MD5 that is "+tc.name)
	}
	wantStatus(t, n.s3Do(ctx, t, http.MethodHead, path, nil), http.StatusNotFound, "HEAD after refused PUTs")
	good := md5.Sum(body)
	r := n.s3Do(ctx, t, http.MethodPut, path, body, "Content-MD5", base64.StdEncoding.EncodeToString(good[:]))
	wantStatus(t, r, http.StatusOK, "PutObject with the right Content-MD5")
	wantStatus(t, n.s3Do(ctx, t, http.MethodDelete, path+"?"+upload, nil), http.StatusNoContent, "AbortMultipartUpload")
}

// checkEmptyContinuation is s3-tests' test_bucket_listv2_continuationtoken_empty:
// an empty continuation-token lists from the beginning and is echoed back
// empty.
func checkEmptyContinuation(ctx context.Context, t *testing.T, o *origin, n *Node, c *s3.Client) {
	keys := []string{"fidelity-list/a", "fidelity-list/b", "fidelity-list/c"}
	for _, k := range keys {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(k),
			Body: strings.NewReader(k)}); err != nil {
			t.Fatalf("PutObject %s: %v", k, err)
		}
	}
	r := n.s3Do(ctx, t, http.MethodGet, "/"+o.Bucket+"?list-type=2&prefix=fidelity-list/&continuation-token=", nil)
	wantStatus(t, r, http.StatusOK, "ListObjectsV2 with an empty continuation-token")
	if !bytes.Contains(r.Body, []byte("<ContinuationToken></ContinuationToken>")) {
		t.Errorf("ListObjectsV2 with an empty continuation-token: no empty <ContinuationToken> in %s", r.Body)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(o.Bucket), Prefix: aws.String("fidelity-list/"),
		ContinuationToken: aws.String("")})
	if err != nil {
		t.Fatalf("SDK ListObjectsV2 with an empty continuation-token: %v", err)
	}
	if out.ContinuationToken == nil || *out.ContinuationToken != "" {
		t.Errorf("SDK ListObjectsV2: ContinuationToken %v, want an empty one", out.ContinuationToken)
	}
	var got []string
	for _, obj := range out.Contents {
		got = append(got, aws.ToString(obj.Key))
	}
	if strings.Join(got, ",") != strings.Join(keys, ",") {
		t.Errorf("SDK ListObjectsV2 with an empty continuation-token: keys %q, want %q", got, keys)
	}
}
