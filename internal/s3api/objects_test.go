package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"sphere.software/objstore"
)

func (e *env) get(t *testing.T, key string) (string, *awss3.GetObjectOutput) {
	t.Helper()
	out, err := e.client.GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	return string(b), out
}

func TestMultipartUpload(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	key := aws.String("mp/object.bin")
	created, err := e.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: key,
		ContentType: aws.String("application/x-test"), Metadata: map[string]string{"job": "42"}})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	id := created.UploadId
	parts := []string{strings.Repeat("a", 2000), strings.Repeat("b", 3000), "tail"}
	var done []types.CompletedPart
	for i := len(parts) - 1; i >= 0; i-- { // any order
		out, err := e.client.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String(testBucket), Key: key, UploadId: id,
			PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader(parts[i])})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		sum := md5.Sum([]byte(parts[i]))
		if want := fmt.Sprintf(`"%x"`, sum); aws.ToString(out.ETag) != want {
			t.Fatalf("part %d ETag %s, want %s", i+1, aws.ToString(out.ETag), want)
		}
		done = append([]types.CompletedPart{{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag}}, done...)
	}
	lp, err := e.client.ListParts(ctx, &awss3.ListPartsInput{Bucket: aws.String(testBucket), Key: key, UploadId: id})
	if err != nil || len(lp.Parts) != 3 || aws.ToInt64(lp.Parts[1].Size) != 3000 {
		t.Fatalf("ListParts: %v %+v", err, lp)
	}
	lu, err := e.client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
	if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(id) {
		t.Fatalf("ListMultipartUploads: %v %+v", err, lu)
	}
	bad := append([]types.CompletedPart(nil), done...)
	bad[1] = types.CompletedPart{PartNumber: aws.Int32(2), ETag: aws.String(`"00000000000000000000000000000000"`)}
	_, err = e.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: key, UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: bad}})
	if apiCode(err) != "InvalidPart" {
		t.Fatalf("Complete with a wrong ETag: %v, want InvalidPart", err)
	}
	res, err := e.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: key, UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	whole := strings.Join(parts, "")
	if want := fmt.Sprintf(`"%x"`, md5.Sum([]byte(whole))); aws.ToString(res.ETag) != want {
		t.Fatalf("Complete ETag %s, want the whole object's MD5 %s", aws.ToString(res.ETag), want)
	}
	got, out := e.get(t, *key)
	if got != whole || aws.ToString(out.ContentType) != "application/x-test" || out.Metadata["job"] != "42" {
		t.Fatalf("assembled object: %d bytes, type %q, meta %v", len(got), aws.ToString(out.ContentType), out.Metadata)
	}
	rec, err := e.node.Head(ctx, objstore.Key{Bucket: testBucket, ID: *key})
	if err != nil || rec.Level != objstore.LevelS3 || !rec.InRemote {
		t.Fatalf("assembled record: %v %+v, want level 1 in the origin", err, rec)
	}
	// A repeated Complete (a retry after a lost answer) answers the same
	// result, as S3 does; another key's Complete of that id does not.
	again, err := e.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: key, UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil || aws.ToString(again.ETag) != aws.ToString(res.ETag) || aws.ToString(again.Location) != aws.ToString(res.Location) {
		t.Fatalf("Complete twice: %v %+v, want ETag %s again", err, again, aws.ToString(res.ETag))
	}
	_, err = e.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("other"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if apiCode(err) != "NoSuchUpload" {
		t.Fatalf("Complete of another key with a completed upload's id: %v, want NoSuchUpload", err)
	}

	// Abort, and a part below the minimum size.
	c2, err := e.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	var small []types.CompletedPart
	for i := 1; i <= 2; i++ {
		out, err := e.client.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String(testBucket), Key: key, UploadId: c2.UploadId,
			PartNumber: aws.Int32(int32(i)), Body: strings.NewReader("tiny")})
		if err != nil {
			t.Fatal(err)
		}
		small = append(small, types.CompletedPart{PartNumber: aws.Int32(int32(i)), ETag: out.ETag})
	}
	_, err = e.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: key, UploadId: c2.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: small}})
	if apiCode(err) != "EntityTooSmall" {
		t.Fatalf("Complete with a small first part: %v, want EntityTooSmall", err)
	}
	if _, err := e.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: aws.String(testBucket), Key: key, UploadId: c2.UploadId}); err != nil {
		t.Fatalf("AbortMultipartUpload: %v", err)
	}
	if got, _ := e.get(t, *key); got != whole {
		t.Fatal("an aborted upload changed the object")
	}
}

func TestCompleteKeepAlive(t *testing.T) {
	old := completeKeepAlive
	completeKeepAlive = 0 // answer with the streamed form at once
	t.Cleanup(func() { completeKeepAlive = old })
	e := newEnv(t, nil)
	ctx := t.Context()
	key := aws.String("slow")
	c, err := e.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.client.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String(testBucket), Key: key, UploadId: c.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("only part")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: key, UploadId: c.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag}}}})
	if err != nil || aws.ToString(res.ETag) == "" {
		t.Fatalf("streamed Complete: %v %+v", err, res)
	}
	if got, _ := e.get(t, *key); got != "only part" {
		t.Fatalf("got %q", got)
	}
}

func TestCopyObject(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	_, err := e.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("src/ü x.txt"),
		Body: strings.NewReader("copy me"), ContentType: aws.String("text/plain"), Metadata: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	src := aws.String(testBucket + "/src/%C3%BC%20x.txt")
	if _, err := e.client.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dst/1"), CopySource: src}); err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	got, out := e.get(t, "dst/1")
	if got != "copy me" || out.Metadata["a"] != "1" || aws.ToString(out.ContentType) != "text/plain" {
		t.Fatalf("copy: %q %v %q", got, out.Metadata, aws.ToString(out.ContentType))
	}
	_, err = e.client.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dst/2"), CopySource: src,
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"b": "2"}, ContentType: aws.String("text/x-new")})
	if err != nil {
		t.Fatalf("CopyObject REPLACE: %v", err)
	}
	if _, out := e.get(t, "dst/2"); out.Metadata["b"] != "2" || out.Metadata["a"] != "" || aws.ToString(out.ContentType) != "text/x-new" {
		t.Fatalf("copy with REPLACE: %v %q", out.Metadata, aws.ToString(out.ContentType))
	}
	_, err = e.client.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dst/1"), CopySource: aws.String(testBucket + "/dst/1")})
	if apiCode(err) != "InvalidRequest" {
		t.Fatalf("copy onto itself: %v, want InvalidRequest", err)
	}
	_, err = e.client.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dst/3"), CopySource: aws.String(testBucket + "/missing")})
	if apiCode(err) != "NoSuchKey" {
		t.Fatalf("copy of a missing key: %v, want NoSuchKey", err)
	}
	_, err = e.client.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dst/3"), CopySource: src,
		CopySourceIfMatch: aws.String(`"0123"`)})
	if apiCode(err) != "PreconditionFailed" {
		t.Fatalf("copy with a failing x-amz-copy-source-if-match: %v, want PreconditionFailed", err)
	}
}

func TestDeleteObjects(t *testing.T) {
	e := newEnv(t, nil)
	for _, k := range []string{"x/1", "x/2", "x/3"} {
		e.put(t, k, k)
	}
	out, err := e.client.DeleteObjects(t.Context(), &awss3.DeleteObjectsInput{Bucket: aws.String(testBucket), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("x/1")}, {Key: aws.String("x/3")}, {Key: aws.String("never")}}}})
	if err != nil || len(out.Deleted) != 3 || len(out.Errors) != 0 {
		t.Fatalf("DeleteObjects: %v %+v", err, out)
	}
	if got := e.listAll(t, "", "", 1000); len(got) != 1 || got[0] != "x/2" {
		t.Fatalf("after DeleteObjects: %q", got)
	}
}

func TestConditionalAndBadDigest(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "c", "conditional")
	_, out := e.get(t, "c")
	etag := aws.ToString(out.ETag)
	req := func(hdr map[string]string) int {
		r, _ := http.NewRequest("GET", e.srv.URL+"/"+testBucket+"/c", nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		e.sign(t, r)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tt := range []struct {
		hdr  map[string]string
		want int
	}{
		{map[string]string{"If-None-Match": etag}, 304},
		{map[string]string{"If-Match": etag}, 200},
		{map[string]string{"If-Match": `"nope"`}, 412},
		{map[string]string{"If-Modified-Since": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, 304},
		{map[string]string{"If-Unmodified-Since": time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)}, 412},
		{map[string]string{"Range": "bytes=100-"}, 416},
		{map[string]string{"Range": "bytes=-4"}, 206},
	} {
		if got := req(tt.hdr); got != tt.want {
			t.Errorf("GET with %v: %d, want %d", tt.hdr, got, tt.want)
		}
	}
	wrong := md5.Sum([]byte("something else"))
	_, err := e.client.PutObject(t.Context(), &awss3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("d"),
		Body: strings.NewReader("digest"), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
	if apiCode(err) != "BadDigest" {
		t.Fatalf("PUT with a wrong Content-MD5: %v, want BadDigest", err)
	}
	if _, err := e.node.Head(t.Context(), objstore.Key{Bucket: testBucket, ID: "d"}); err == nil {
		t.Fatal("a PUT that failed its Content-MD5 was recorded")
	}
}

func TestLevels(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	head := func(key string) objstore.Record {
		rec, err := e.node.Head(ctx, objstore.Key{Bucket: testBucket, ID: key})
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	e.put(t, "default", "1")
	if rec := head("default"); rec.Level != 1 || !rec.InRemote {
		t.Fatalf("default level: %+v", rec)
	}
	_, err := e.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("two"),
		Body: strings.NewReader("2"), Metadata: map[string]string{"objstore-level": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if rec := head("two"); rec.Level != 2 || rec.UserMeta != nil {
		t.Fatalf("x-amz-meta-objstore-level: %+v", rec)
	}
	e.put(t, "two", "again") // no level named: keeps 2
	if rec := head("two"); rec.Level != 2 {
		t.Fatalf("an overwrite without a level lowered it: %+v", rec)
	}
	_, err = e.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("two"), Body: strings.NewReader("0")}, withLevel("0"))
	if apiCode(err) != "InvalidArgument" {
		t.Fatalf("an explicit lower level: %v, want InvalidArgument", err)
	}
	_, err = e.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("r"), Body: strings.NewReader("0"),
		Metadata: map[string]string{"objstore-x": "1"}})
	if apiCode(err) != "InvalidArgument" {
		t.Fatalf("reserved metadata: %v, want InvalidArgument", err)
	}
	_, err = e.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("r"), Body: strings.NewReader("0"),
		Metadata: map[string]string{"big": strings.Repeat("x", 2000)}})
	if apiCode(err) != "MetadataTooLarge" {
		t.Fatalf("large metadata: %v, want MetadataTooLarge", err)
	}
}

func TestNativeInterop(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	// A native write is an S3 object of the same bucket and key.
	id := "01jdzq3m8v6b1x2c3d4e5f6g7h"
	_, err := e.node.Put(ctx, nodePut(objstore.Key{Bucket: testBucket, ID: id}, "native body", `{"n":1,"s":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, out := e.get(t, id)
	if got != "native body" || out.Metadata["n"] != "1" || out.Metadata["s"] != "x" {
		t.Fatalf("native object through S3: %q %v", got, out.Metadata)
	}
	if _, err := e.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if rec, err := e.node.Head(ctx, objstore.Key{Bucket: testBucket, ID: id}); err != nil || !rec.Deleted {
		t.Fatalf("after an S3 delete the native record is %+v, %v", rec, err)
	}
}

func TestAnonymousAndVirtualHost(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Anonymous = AnonymousRead; c.Domain = "s3.local" })
	e.put(t, "pub/file", "public")
	do := func(method, host, path string, body io.Reader) int {
		r, _ := http.NewRequest(method, e.srv.URL+path, body)
		if host != "" {
			r.Host = host
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := do("GET", "", "/"+testBucket+"/pub/file", nil); got != 200 {
		t.Fatalf("anonymous GET: %d", got)
	}
	if got := do("GET", testBucket+".s3.local", "/pub/file", nil); got != 200 {
		t.Fatalf("virtual-host GET: %d", got)
	}
	if got := do("PUT", "", "/"+testBucket+"/pub/new", bytes.NewReader([]byte("x"))); got != 403 {
		t.Fatalf("anonymous PUT with read-only anonymous access: %d, want 403", got)
	}
	// An unsigned link must not choose how a body is served: a text file
	// served as text/html would be a stored XSS.
	for _, param := range []string{"response-content-type=text%2Fhtml", "response-content-disposition=inline", "response-cache-control=no-store"} {
		if got := do("GET", "", "/"+testBucket+"/pub/file?"+param, nil); got != 400 {
			t.Fatalf("anonymous GET with %s: %d, want 400 InvalidRequest", param, got)
		}
	}
	closed := newEnv(t, nil)
	r, _ := http.Get(closed.srv.URL + "/" + testBucket + "/x")
	r.Body.Close()
	if r.StatusCode != 403 {
		t.Fatalf("anonymous GET with anonymous access off: %d", r.StatusCode)
	}
}

func TestPresignedGet(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "share me", "presigned")
	ps := awss3.NewPresignClient(e.client)
	req, err := ps.PresignGetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("share me")},
		awss3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "presigned" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, b)
	}
}

func TestUploadPartCopyAndTagging(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	src := strings.Repeat("0123456789", 300)
	e.put(t, "src", src)
	c, err := e.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("dst")})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := e.client.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{Bucket: aws.String(testBucket), Key: aws.String("dst"), UploadId: c.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String(testBucket + "/src"), CopySourceRange: aws.String("bytes=0-1999")})
	if err != nil {
		t.Fatalf("UploadPartCopy: %v", err)
	}
	p2, err := e.client.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{Bucket: aws.String(testBucket), Key: aws.String("dst"), UploadId: c.UploadId,
		PartNumber: aws.Int32(2), CopySource: aws.String(testBucket + "/src"), CopySourceRange: aws.String("bytes=2000-2999")})
	if err != nil {
		t.Fatalf("UploadPartCopy: %v", err)
	}
	_, err = e.client.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{Bucket: aws.String(testBucket), Key: aws.String("dst"), UploadId: c.UploadId,
		PartNumber: aws.Int32(3), CopySource: aws.String(testBucket + "/src"), CopySourceRange: aws.String("bytes=5000-6000")})
	if apiCode(err) != "InvalidRange" {
		t.Fatalf("UploadPartCopy past the end: %v, want InvalidRange", err)
	}
	_, err = e.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("dst"), UploadId: c.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: p1.CopyPartResult.ETag}, {PartNumber: aws.Int32(2), ETag: p2.CopyPartResult.ETag}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.get(t, "dst"); got != src {
		t.Fatalf("copied by parts: %d bytes", len(got))
	}
	tags, err := e.client.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: aws.String(testBucket), Key: aws.String("dst")})
	if err != nil || len(tags.TagSet) != 0 {
		t.Fatalf("GetObjectTagging: %v %+v", err, tags)
	}
	_, err = e.client.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: aws.String(testBucket), Key: aws.String("missing")})
	if apiCode(err) != "NoSuchKey" {
		t.Fatalf("GetObjectTagging of a missing key: %v", err)
	}
}

// TestMetaHeadersLowerCase: boto3 and the AWS CLI keep the case of
// x-amz-meta-* keys as sent, and S3 sends them in lower case.
func TestMetaHeadersLowerCase(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.client.PutObject(t.Context(), &awss3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("m"),
		Body: strings.NewReader("x"), Metadata: map[string]string{"Color": "blue"}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("HEAD", e.srv.URL+"/"+testBucket+"/m", nil)
	r.Host = strings.TrimPrefix(e.srv.URL, "http://")
	e.sign(t, r)
	w := httptest.NewRecorder()
	e.api.ServeHTTP(w, r)
	// The recorder keeps the keys as the handler set them.
	var got []string
	for k, v := range w.Header() {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-meta-") {
			got = append(got, k+"="+strings.Join(v, ","))
		}
	}
	if w.Code != 200 || len(got) != 1 || got[0] != "x-amz-meta-color=blue" {
		t.Fatalf("HEAD %d, metadata headers %v", w.Code, got)
	}
}

func TestUnconfiguredBucketSettings(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.client.GetBucketPolicy(t.Context(), &awss3.GetBucketPolicyInput{Bucket: aws.String(testBucket)})
	if apiCode(err) != "NoSuchBucketPolicy" {
		t.Fatalf("GetBucketPolicy: %v", err)
	}
	_, err = e.client.GetBucketCors(t.Context(), &awss3.GetBucketCorsInput{Bucket: aws.String("missing")})
	if apiCode(err) != "NoSuchBucket" {
		t.Fatalf("GetBucketCors of a missing bucket: %v", err)
	}
	_, err = e.client.PutBucketPolicy(t.Context(), &awss3.PutBucketPolicyInput{Bucket: aws.String(testBucket), Policy: aws.String("{}")})
	if apiCode(err) != "NotImplemented" {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
}
