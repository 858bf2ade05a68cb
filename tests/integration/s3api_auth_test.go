package integration

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestS3APIAuth sends hand-signed requests (aws-sdk-go-v2's SigV4 signer)
// to a node's S3 API: a valid signature passes, and every way of getting
// it wrong is refused with S3's status and error code, before anything is
// written.
func TestS3APIAuth(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	ctx := testCtx(t, 2*time.Minute)
	body := randomBody(401, 1000)
	known := "/" + o.Bucket + "/auth/known.bin"
	wantStatus(t, n.s3Do(ctx, t, http.MethodPut, known, body), http.StatusOK, "PUT "+known)

	// signedGet is a GET of the known object signed with creds at time at.
	signedGet := func(t *testing.T, access, secret string, at time.Time) *response {
		req := newS3Request(ctx, t, http.MethodGet, n.s3URL(known), nil)
		signAt(ctx, t, req, s3Creds(access, secret), at)
		return n.mustSend(t, req)
	}
	// wantAbsent checks that a refused write left nothing behind.
	wantAbsent := func(t *testing.T, path string) {
		t.Helper()
		if r := n.s3Do(ctx, t, http.MethodHead, path, nil); r.Status != http.StatusNotFound {
			t.Errorf("HEAD %s after a refused PUT: %d, want 404", path, r.Status)
		}
	}

	t.Run("valid", func(t *testing.T) {
		r := signedGet(t, TestAccessKey, TestSecretKey, time.Now())
		wantStatus(t, r, http.StatusOK, "GET signed with the test credentials")
		wantBody(t, r.Body, body, "GET signed with the test credentials")
	})
	t.Run("wrong secret", func(t *testing.T) {
		r := signedGet(t, TestAccessKey, TestSecretKey+"-wrong", time.Now())
		wantS3Error(t, r, http.StatusForbidden, "SignatureDoesNotMatch", "GET signed with a wrong secret")
	})
	t.Run("unknown access key", func(t *testing.T) {
		r := signedGet(t, "no-such-access-key", TestSecretKey, time.Now())
		wantS3Error(t, r, http.StatusForbidden, "InvalidAccessKeyId", "GET signed with an unknown access key")
	})
	t.Run("no authentication", func(t *testing.T) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.s3URL(known), nil)
		if err != nil {
			t.Fatal(err)
		}
		wantS3Error(t, n.mustSend(t, req), http.StatusForbidden, "AccessDenied", "unsigned GET")
	})
	t.Run("presigned URL", func(t *testing.T) {
		presign := func(at time.Time, expires time.Duration) string {
			u := n.s3URL(known) + "?" + url.Values{"X-Amz-Expires": {fmt.Sprint(int(expires.Seconds()))}}.Encode()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			signed, _, err := v4.NewSigner().PresignHTTP(ctx, testCreds, req, "UNSIGNED-PAYLOAD", "s3", s3Region, at)
			if err != nil {
				t.Fatalf("presign: %v", err)
			}
			return signed
		}
		fetchPresigned(ctx, t, presign(time.Now(), time.Minute), body)
		r := getURL(ctx, t, presign(time.Now().Add(-2*time.Hour), time.Minute))
		wantS3Error(t, r, http.StatusForbidden, "AccessDenied", "GET of a URL presigned 2 hours ago for 60 seconds")
	})
	t.Run("header tampered after signing", func(t *testing.T) {
		path := "/" + o.Bucket + "/auth/tampered-header.bin"
		req := newS3Request(ctx, t, http.MethodPut, n.s3URL(path), body, "X-Amz-Meta-Color", "blue")
		signAt(ctx, t, req, testCreds, time.Now())
		req.Header.Set("X-Amz-Meta-Color", "red")
		wantS3Error(t, n.mustSend(t, req), http.StatusForbidden, "SignatureDoesNotMatch", "PUT with a signed header changed after signing")
		wantAbsent(t, path)
	})
	t.Run("body tampered after signing", func(t *testing.T) {
		path := "/" + o.Bucket + "/auth/tampered-body.bin"
		other := randomBody(402, len(body))
		req := newS3Request(ctx, t, http.MethodPut, n.s3URL(path), other)
		req.Header.Set("X-Amz-Content-Sha256", payloadHash(body)) // signed, but of another body
		signAt(ctx, t, req, testCreds, time.Now())
		wantS3Error(t, n.mustSend(t, req), http.StatusBadRequest, "XAmzContentSHA256Mismatch", "PUT of a body other than the signed one")
		wantAbsent(t, path)
	})
	t.Run("clock skew", func(t *testing.T) {
		r := signedGet(t, TestAccessKey, TestSecretKey, time.Now().Add(-20*time.Minute))
		wantS3Error(t, r, http.StatusForbidden, "RequestTimeTooSkewed", "GET signed 20 minutes ago")
	})
}

// TestS3APIErrors checks S3's error codes and statuses for requests that
// are signed correctly but cannot be served.
func TestS3APIErrors(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	ctx := testCtx(t, 2*time.Minute)
	bucket := "/" + o.Bucket
	small := randomBody(501, 1000)
	wantStatus(t, n.s3Do(ctx, t, http.MethodPut, bucket+"/errors/small.bin", small), http.StatusOK, "PUT small.bin")
	garbage := []byte("<Delete><Object><Key>unclosed")
	garbageMD5 := md5.Sum(garbage)

	for _, tc := range []struct {
		name, method, path string
		body               []byte
		hdr                []string
		status             int
		code               string
	}{
		{"missing key", http.MethodGet, bucket + "/errors/missing.bin", nil, nil, http.StatusNotFound, "NoSuchKey"},
		{"key in a missing bucket", http.MethodGet, "/no-such-bucket-here/key", nil, nil, http.StatusNotFound, "NoSuchBucket"},
		{"list of a missing bucket", http.MethodGet, "/no-such-bucket-here?list-type=2", nil, nil, http.StatusNotFound, "NoSuchBucket"},
		{"range past the end", http.MethodGet, bucket + "/errors/small.bin", nil, []string{"Range", "bytes=100000-"},
			http.StatusRequestedRangeNotSatisfiable, "InvalidRange"},
		{"complete of a made-up upload", http.MethodPost, bucket + "/errors/mp.bin?uploadId=no-such-upload-id",
			completeDoc(map[int]string{1: `"` + md5Hex(small) + `"`}), nil, http.StatusNotFound, "NoSuchUpload"},
		{"DeleteObjects with a garbage body", http.MethodPost, bucket + "?delete", garbage,
			[]string{"Content-MD5", base64.StdEncoding.EncodeToString(garbageMD5[:])}, http.StatusBadRequest, "MalformedXML"},
	} {
		t.Run(tc.code+" for "+tc.name, func(t *testing.T) {
			r := n.s3Do(ctx, t, tc.method, tc.path, tc.body, tc.hdr...)
			wantS3Error(t, r, tc.status, tc.code, tc.method+" "+tc.path)
		})
	}
	if r := n.s3Do(ctx, t, http.MethodHead, bucket+"/errors/small.bin", nil); r.Status != http.StatusOK {
		t.Errorf("HEAD small.bin after the refused requests: %d, want 200", r.Status)
	}
	t.Run("BucketNotEmpty", func(t *testing.T) { checkBucketNotEmpty(ctx, t, n, small) })
	t.Run("InvalidPart", func(t *testing.T) { checkInvalidPart(ctx, t, n, bucket+"/errors/invalid-part.bin", small) })
	// 1 MiB is below the 5 MiB minimum part of multipart uploads; 6 MiB is
	// above it.
	for _, limit := range []int{1 << 20, 6 << 20} {
		t.Run(fmt.Sprintf("EntityTooLarge at %d MiB", limit>>20), func(t *testing.T) { checkEntityTooLarge(ctx, t, o, limit) })
	}
	t.Run("parts count against --disk-quota", func(t *testing.T) { checkPartsQuota(ctx, t, o) })
}

// checkPartsQuota starts a node with a 12 MiB --disk-quota: a second 6 MiB
// part does not fit beside the first (503, nothing kept), a PUT that would
// pass the quota with the part staged is refused too, and aborting the
// upload gives the space back.
func checkPartsQuota(ctx context.Context, t *testing.T, o *origin) {
	n := StartNode(t, NodeOpts{S3: o.S3Server, Bucket: o.Bucket, Dir: t.TempDir(), Args: []string{"--disk-quota", fmt.Sprint(12 << 20)}})
	path := "/" + o.Bucket + "/errors/quota.bin"
	upload := createUpload(ctx, t, n, path)
	part := randomBody(504, 6<<20)
	wantStatus(t, n.s3Do(ctx, t, http.MethodPut, path+"?partNumber=1&"+upload, part), http.StatusOK, "UploadPart 1 (6 MiB of 12)")
	r := n.s3Do(ctx, t, http.MethodPut, path+"?partNumber=2&"+upload, randomBody(505, 7<<20))
	wantS3Error(t, r, http.StatusServiceUnavailable, "ServiceUnavailable", "UploadPart 2 (7 MiB more) over the quota")
	r = n.s3Do(ctx, t, http.MethodPut, "/"+o.Bucket+"/errors/quota-put.bin", randomBody(506, 7<<20))
	if r.Status < 500 {
		t.Errorf("PUT of 7 MiB beside a staged 6 MiB part under a 12 MiB quota: %d, want a 5xx", r.Status)
	}
	wantStatus(t, n.s3Do(ctx, t, http.MethodDelete, path+"?"+upload, nil), http.StatusNoContent, "AbortMultipartUpload")
	r = n.s3Do(ctx, t, http.MethodPut, "/"+o.Bucket+"/errors/quota-put.bin", randomBody(506, 7<<20))
	wantStatus(t, r, http.StatusOK, "PUT of 7 MiB once the upload is aborted")
}

// checkBucketNotEmpty creates a bucket through n, puts an object in it, and
// checks that DeleteBucket is refused until the object is deleted.
func checkBucketNotEmpty(ctx context.Context, t *testing.T, n *Node, body []byte) {
	wantStatus(t, n.s3Do(ctx, t, http.MethodPut, "/it-not-empty", nil), http.StatusOK, "CreateBucket it-not-empty")
	wantStatus(t, n.s3Do(ctx, t, http.MethodPut, "/it-not-empty/k", body), http.StatusOK, "PUT it-not-empty/k")
	r := n.s3Do(ctx, t, http.MethodDelete, "/it-not-empty", nil)
	wantS3Error(t, r, http.StatusConflict, "BucketNotEmpty", "DeleteBucket of a bucket with an object")
	wantStatus(t, n.s3Do(ctx, t, http.MethodDelete, "/it-not-empty/k", nil), http.StatusNoContent, "DELETE it-not-empty/k")
	wantStatus(t, n.s3Do(ctx, t, http.MethodDelete, "/it-not-empty", nil), http.StatusNoContent, "DeleteBucket it-not-empty once empty")
}

// checkInvalidPart uploads one part of path and completes the upload
// naming a wrong ETag for it: InvalidPart, and nothing written.
func checkInvalidPart(ctx context.Context, t *testing.T, n *Node, path string, body []byte) {
	upload := createUpload(ctx, t, n, path)
	part := n.s3Do(ctx, t, http.MethodPut, path+"?partNumber=1&"+upload, body)
	wantStatus(t, part, http.StatusOK, "UploadPart 1")
	wantEq(t, "UploadPart ETag", part.Header.Get("ETag"), `"`+md5Hex(body)+`"`)
	r := n.s3Do(ctx, t, http.MethodPost, path+"?"+upload, completeDoc(map[int]string{1: `"00000000000000000000000000000000"`}))
	wantS3Error(t, r, http.StatusBadRequest, "InvalidPart", "CompleteMultipartUpload naming a wrong ETag")
	wantStatus(t, n.s3Do(ctx, t, http.MethodDelete, path+"?"+upload, nil), http.StatusNoContent, "AbortMultipartUpload")
	if r := n.s3Do(ctx, t, http.MethodHead, path, nil); r.Status != http.StatusNotFound {
		t.Errorf("HEAD after a failed complete and an abort: %d, want 404", r.Status)
	}
}

// checkEntityTooLarge starts a node with --max-object-size limit and checks
// that a PUT of 1 MiB more is refused with EntityTooLarge and leaves
// nothing behind, while a PUT of exactly limit bytes is stored.
func checkEntityTooLarge(ctx context.Context, t *testing.T, o *origin, limit int) {
	dir := t.TempDir()
	t.Cleanup(func() {
		if log, _ := os.ReadFile(filepath.Join(dir, "node.log")); bytes.Contains(log, []byte("min part size exceeds max part size")) {
			t.Error("SERVER BUG: a node with --max-object-size below 5 MiB does not start: cmd/objstore/s3api.go openS3API " +
				"passes cfg.MaxObjectSize as multipart.Config.MaxPartSize, and multipart.Config.Validate refuses a MaxPartSize " +
				"below MinPartSize (5 MiB); the part limit should be max(MaxObjectSize, MinPartSize), or MinPartSize lowered to it")
		}
	})
	n := StartNode(t, NodeOpts{S3: o.S3Server, Bucket: o.Bucket, Dir: dir, Args: []string{"--max-object-size", fmt.Sprint(limit)}})
	path := "/" + o.Bucket + "/errors/too-large.bin"
	over := limit + 1<<20
	r := n.s3Do(ctx, t, http.MethodPut, path, randomBody(502, over))
	wantS3Error(t, r, http.StatusBadRequest, "EntityTooLarge", fmt.Sprintf("PUT of %d bytes with --max-object-size %d", over, limit))
	if r := n.s3Do(ctx, t, http.MethodHead, path, nil); r.Status != http.StatusNotFound {
		t.Errorf("HEAD after a refused PUT: %d, want 404", r.Status)
	}
	r = n.s3Do(ctx, t, http.MethodPut, "/"+o.Bucket+"/errors/fits.bin", randomBody(503, limit))
	wantStatus(t, r, http.StatusOK, fmt.Sprintf("PUT of %d bytes with --max-object-size %d", limit, limit))
}

// createUpload starts a multipart upload of path through n and returns its
// "uploadId=..." query.
func createUpload(ctx context.Context, t *testing.T, n *Node, path string) string {
	t.Helper()
	r := n.s3Do(ctx, t, http.MethodPost, path+"?uploads", nil)
	wantStatus(t, r, http.StatusOK, "CreateMultipartUpload")
	var init struct{ UploadId string }
	if err := xml.Unmarshal(r.Body, &init); err != nil || init.UploadId == "" {
		t.Fatalf("CreateMultipartUpload: no UploadId in %s (%v)", r.Body, err)
	}
	return url.Values{"uploadId": {init.UploadId}}.Encode()
}

// completeDoc is a CompleteMultipartUpload document naming the parts.
func completeDoc(parts map[int]string) []byte {
	b := []byte("<CompleteMultipartUpload>")
	for i := 1; i <= len(parts); i++ {
		b = fmt.Appendf(b, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i, parts[i])
	}
	return append(b, "</CompleteMultipartUpload>"...)
}
