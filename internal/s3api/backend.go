package s3api

import (
	"context"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
)

// Backend is what the S3 API asks of the node: every decision about where
// objects live, which level a write gets, what a listing shows and which
// buckets exist is the node's; the S3 API only speaks the protocol.
// Implemented by *node.Node.
type Backend interface {
	// Get opens a live object; on a miss it reads through to the origin.
	Get(ctx context.Context, key objstore.Key, fetch bool) (*node.Object, error)
	// GetHot returns the object when its body is in memory, and nothing else.
	GetHot(key objstore.Key) (*node.Object, bool)
	// Stat returns a live object's record without its body.
	Stat(ctx context.Context, key objstore.Key) (objstore.Record, error)
	Put(ctx context.Context, req node.PutRequest) (objstore.Record, error)
	Delete(ctx context.Context, key objstore.Key) (objstore.Record, error)
	// DeleteBack is Delete in write-back mode: the origin's delete is owed.
	DeleteBack(ctx context.Context, key objstore.Key) (objstore.Record, error)
	// List returns one page of the bucket's keys as the cluster sees them.
	List(ctx context.Context, bucket string, q objstore.ListQuery) (objstore.ListPage, error)

	ListBuckets(ctx context.Context) ([]objstore.Bucket, error)
	CreateBucket(ctx context.Context, name string) error
	DeleteBucket(ctx context.Context, name string) error
	// HeadBucket asks the origin; CheckBucket may trust a recent answer.
	HeadBucket(ctx context.Context, name string) error
	CheckBucket(ctx context.Context, name string) error
	// CheckBucketForWriteBack is CheckBucket that trusts a bucket known
	// before when the origin cannot answer.
	CheckBucketForWriteBack(ctx context.Context, name string) error
}

var _ Backend = (*node.Node)(nil)
