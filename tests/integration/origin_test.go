package integration

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"sphere.software/objstore/internal/objstoretest"
)

// origin is a test's own S3 server with one bucket, and a client that reads
// it directly (not through the counting proxy).
type origin struct {
	*objstoretest.S3Server
	Bucket string
	s3     *s3.Client
}

// newOrigin starts a fresh S3 server with one bucket.
func newOrigin(t testing.TB) *origin {
	t.Helper()
	srv := objstoretest.StartS3(t)
	o := &origin{S3Server: srv, Bucket: "objstore-it"}
	srv.CreateBucket(t, o.Bucket)
	o.s3 = srv.Client(t)
	return o
}

// StartNode starts a node on the origin's bucket with extra args.
func (o *origin) StartNode(t testing.TB, args ...string) *Node {
	t.Helper()
	return StartNode(t, NodeOpts{S3: o.S3Server, Bucket: o.Bucket, Args: args})
}

// key is the S3 key of a native-API id.
func key(id string) string { return id }

// Head returns the object's metadata, or false if the bucket has no such
// object.
func (o *origin) Head(t testing.TB, id string) (*s3.HeadObjectOutput, bool) {
	t.Helper()
	out, err := o.s3.HeadObject(context.Background(), &s3.HeadObjectInput{
		Bucket: aws.String(o.Bucket), Key: aws.String(key(id)),
	})
	var nf *types.NotFound
	if errors.As(err, &nf) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("S3 HeadObject %s: %v", id, err)
	}
	return out, true
}

// Get returns the object's body and user metadata; it fails the test if the
// object is missing.
func (o *origin) Get(t testing.TB, id string) ([]byte, map[string]string) {
	t.Helper()
	out, err := o.s3.GetObject(context.Background(), &s3.GetObjectInput{
		Bucket: aws.String(o.Bucket), Key: aws.String(key(id)),
	})
	if err != nil {
		t.Fatalf("S3 GetObject %s: %v", id, err)
	}
	defer func() { _ = out.Body.Close() }() // read-only body, fully read below
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("S3 GetObject %s: read: %v", id, err)
	}
	return b, out.Metadata
}

// Tags returns the object's S3 tags.
func (o *origin) Tags(t testing.TB, id string) map[string]string {
	t.Helper()
	out, err := o.s3.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{
		Bucket: aws.String(o.Bucket), Key: aws.String(key(id)),
	})
	if err != nil {
		t.Fatalf("S3 GetObjectTagging %s: %v", id, err)
	}
	tags := make(map[string]string, len(out.TagSet))
	for _, tag := range out.TagSet {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return tags
}

// Keys lists every key in the bucket.
func (o *origin) Keys(t testing.TB) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(o.s3, &s3.ListObjectsV2Input{Bucket: aws.String(o.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("S3 ListObjectsV2: %v", err)
		}
		for _, obj := range page.Contents {
			keys = append(keys, aws.ToString(obj.Key))
		}
	}
	return keys
}
