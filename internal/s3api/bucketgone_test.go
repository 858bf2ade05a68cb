package s3api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/localdir"
	"sphere.software/objstore/internal/node"
)

// bucketGoneOrigin is an origin whose uploads find their bucket deleted
// meanwhile (through the node, as a client's DeleteBucket would) and whose
// connection then breaks before its 404 arrives, as versitygw's does when
// it refuses a body it never reads.
type bucketGoneOrigin struct {
	*localdir.Remote
	node **node.Node
}

func (o bucketGoneOrigin) Put(ctx context.Context, rec objstore.Record, _ io.ReaderAt) error {
	if err := (*o.node).DeleteBucket(ctx, rec.Key.Bucket); err != nil {
		return err
	}
	return fmt.Errorf("s3: put %s: connection reset by peer: %w", rec.Key, objstore.ErrNoRemote)
}

// A PutObject whose upload fails because its bucket went away meanwhile
// answers NoSuchBucket, as S3 does, not 503 (s3-tests
// test_atomic_write_bucket_gone).
func TestPutIntoBucketDeletedMeanwhileIsNoSuchBucket(t *testing.T) {
	var n *node.Node
	e := newEnvWith(t, t.TempDir(), func(r node.Remote) node.Remote {
		return bucketGoneOrigin{Remote: r.(*localdir.Remote), node: &n}
	}, nil)
	n = e.node
	_, err := e.client.PutObject(t.Context(), &awss3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String("foo"), Body: bytes.NewReader([]byte("body")),
	}, func(o *awss3.Options) { o.RetryMaxAttempts = 1 }) // a retry would find the bucket gone up front
	var apiErr interface{ ErrorCode() string }
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoSuchBucket" {
		t.Fatalf("PutObject into a bucket deleted meanwhile: %v, want NoSuchBucket", err)
	}
}
