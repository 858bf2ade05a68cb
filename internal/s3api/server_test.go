package s3api

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}

func TestPutGetHeadDelete(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	body := bytes.Repeat([]byte("objstore "), 1000)
	_, err := e.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String("dir/a b+c.txt"), Body: bytes.NewReader(body),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"owner": "ops"},
		CacheControl: aws.String("max-age=60"),
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := e.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/a b+c.txt")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if sha256.Sum256(got) != sha256.Sum256(body) {
		t.Fatalf("GetObject returned %d bytes, not what was put", len(got))
	}
	if aws.ToString(out.ContentType) != "text/plain" || out.Metadata["owner"] != "ops" || aws.ToString(out.CacheControl) != "max-age=60" {
		t.Fatalf("GetObject attributes: type %q meta %v cache %q", aws.ToString(out.ContentType), out.Metadata, aws.ToString(out.CacheControl))
	}
	rng, err := e.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/a b+c.txt"), Range: aws.String("bytes=9-17")})
	if err != nil {
		t.Fatalf("ranged GetObject: %v", err)
	}
	part, _ := io.ReadAll(rng.Body)
	rng.Body.Close()
	if string(part) != "objstore " {
		t.Fatalf("ranged GetObject: %q", part)
	}
	if _, err := e.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/a b+c.txt")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	_, err = e.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/a b+c.txt")})
	if err == nil {
		t.Fatal("HeadObject after delete: want an error")
	}
	_, err = e.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dir/a b+c.txt")})
	if apiCode(err) != "NoSuchKey" {
		t.Fatalf("GetObject after delete: %v, want NoSuchKey", err)
	}
	_, err = e.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("nope"), Key: aws.String("x")})
	if apiCode(err) != "NoSuchBucket" {
		t.Fatalf("GetObject in a missing bucket: %v, want NoSuchBucket", err)
	}
	bad := newClient(e.srv.URL, testAccess, "wrong")
	_, err = bad.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("x")})
	if apiCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v, want SignatureDoesNotMatch", err)
	}
}
