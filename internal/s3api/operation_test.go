package s3api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// opRecorder is an HTTP client that sends nothing: it notes the operation
// the SDK names each request and the one Operation names it, and fails.
type opRecorder struct {
	api       *Server
	sdk, ours string
}

var errNotSent = errors.New("not sent")

func (o *opRecorder) Do(r *http.Request) (*http.Response, error) {
	o.sdk, o.ours = awsmiddleware.GetOperationName(r.Context()), o.api.Operation(r)
	return nil, errNotSent
}

// TestOperationNamesAsTheSDK sends each S3 operation the API routes
// through the AWS SDK and checks that Operation gives the request the
// SDK's own name for it.
func TestOperationNamesAsTheSDK(t *testing.T) {
	rec := &opRecorder{api: &Server{}}
	c := awss3.New(awss3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), HTTPClient: rec, RetryMaxAttempts: 1,
	})
	b, k, id := aws.String("bkt"), aws.String("dir/key"), aws.String("upload-id")
	body := strings.NewReader("x")
	calls := []func(ctx context.Context) error{
		func(ctx context.Context) error { _, err := c.ListBuckets(ctx, &awss3.ListBucketsInput{}); return err },
		func(ctx context.Context) error {
			_, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.ListObjects(ctx, &awss3.ListObjectsInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetBucketLocation(ctx, &awss3.GetBucketLocationInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetBucketVersioning(ctx, &awss3.GetBucketVersioningInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetBucketAcl(ctx, &awss3.GetBucketAclInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetBucketPolicy(ctx, &awss3.GetBucketPolicyInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetBucketCors(ctx, &awss3.GetBucketCorsInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetBucketLifecycleConfiguration(ctx, &awss3.GetBucketLifecycleConfigurationInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetBucketTagging(ctx, &awss3.GetBucketTaggingInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetBucketWebsite(ctx, &awss3.GetBucketWebsiteInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetBucketEncryption(ctx, &awss3.GetBucketEncryptionInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: b})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: k}}}})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: b, Key: k})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: b, Key: k})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: b, Key: k, Body: body})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: b, Key: k})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: b, Key: k, CopySource: aws.String("bkt/src")})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetObjectAcl(ctx, &awss3.GetObjectAclInput{Bucket: b, Key: k})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: b, Key: k})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: b, Key: k})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.UploadPart(ctx, &awss3.UploadPartInput{Bucket: b, Key: k, UploadId: id, PartNumber: aws.Int32(1), Body: body})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{Bucket: b, Key: k, UploadId: id, PartNumber: aws.Int32(1), CopySource: aws.String("bkt/src")})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: id})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: b, Key: k, UploadId: id})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.ListParts(ctx, &awss3.ListPartsInput{Bucket: b, Key: k, UploadId: id})
			return err
		},
	}
	for i, call := range calls {
		rec.sdk, rec.ours = "", ""
		if err := call(context.Background()); !errors.Is(err, errNotSent) {
			t.Fatalf("call %d: %v; want the recorder's error", i, err)
		}
		if rec.sdk == "" || rec.ours != rec.sdk {
			t.Errorf("call %d: Operation named %q the request the SDK calls %q", i, rec.ours, rec.sdk)
		}
	}
}

func TestOperationOfOtherRequests(t *testing.T) {
	api := &Server{}
	for _, tc := range []struct{ method, target, want string }{
		{"GET", "/bkt/key?torrent", "other"},
		{"PUT", "/bkt/key?acl", "other"},
		{"GET", "/bkt?logging", "other"},
		{"PUT", "/bkt?cors", "other"},
		{"POST", "/bkt/key", "other"},
		{"PATCH", "/bkt/key", "other"},
	} {
		r, err := http.NewRequest(tc.method, "http://h"+tc.target, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := api.Operation(r); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.method, tc.target, got, tc.want)
		}
	}
}
