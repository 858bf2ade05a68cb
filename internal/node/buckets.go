package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"sphere.software/objstore"
)

// Catalog is what the origin knows beyond single objects: its buckets and
// the listings of their keys. Implemented by internal/s3 and
// internal/localdir; the S3 API reaches it only through the node.
type Catalog interface {
	ListBuckets(ctx context.Context) ([]objstore.Bucket, error)
	CreateBucket(ctx context.Context, name string) error
	DeleteBucket(ctx context.Context, name string) error
	HeadBucket(ctx context.Context, name string) error
	// List returns one page of the origin's keys of bucket.
	List(ctx context.Context, bucket string, q objstore.ListQuery) (objstore.ListPage, error)
}

// bucketTTL is how long a bucket the origin confirmed is trusted to exist
// without asking again. Deleting it through this node forgets it at once;
// deleting it behind objstore's back is noticed within the TTL.
const bucketTTL = 30 * time.Second

// bucketCache remembers buckets the origin confirmed, so that writes do
// not pay a HeadBucket each.
type bucketCache struct {
	mu   sync.Mutex // guards seen
	seen map[string]time.Time
}

func (c *bucketCache) ok(name string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.seen[name]
	return ok && now.Sub(t) < bucketTTL
}

func (c *bucketCache) set(name string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]time.Time{}
	}
	c.seen[name] = now
}

func (c *bucketCache) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.seen, name)
}

// errNoCatalog is returned by the bucket operations of a node whose origin
// was given no Catalog.
var errNoCatalog = errors.New("node: the origin lists no buckets")

func (n *Node) catalogOrErr() (Catalog, error) {
	if n.catalog == nil {
		return nil, errNoCatalog
	}
	return n.catalog, nil
}

// ListBuckets returns the origin's buckets.
func (n *Node) ListBuckets(ctx context.Context) ([]objstore.Bucket, error) {
	c, err := n.catalogOrErr()
	if err != nil {
		return nil, err
	}
	return c.ListBuckets(ctx)
}

// CreateBucket creates a bucket in the origin.
func (n *Node) CreateBucket(ctx context.Context, name string) error {
	c, err := n.catalogOrErr()
	if err != nil {
		return err
	}
	if err := c.CreateBucket(ctx, name); err != nil {
		return err
	}
	n.buckets.set(name, time.Now())
	return nil
}

// DeleteBucket deletes a bucket in the origin. It refuses with an error
// wrapping objstore.ErrBucketNotEmpty while the cluster holds live objects
// of the bucket, which the origin may not have yet (level 0).
func (n *Node) DeleteBucket(ctx context.Context, name string) error {
	c, err := n.catalogOrErr()
	if err != nil {
		return err
	}
	var live bool
	err = n.journal.Scan(ctx, name, "", func(rec objstore.Record) bool {
		live = !rec.Deleted
		return !live
	})
	if err != nil {
		return fmt.Errorf("node: delete bucket %s: %w", name, err)
	}
	if live {
		return fmt.Errorf("node: delete bucket %s: the cluster holds objects of it: %w", name, objstore.ErrBucketNotEmpty)
	}
	done, err := n.streams.cutBucket(ctx, name)
	if err != nil {
		return fmt.Errorf("node: delete bucket %s: %w", name, err)
	}
	defer done()
	if err := n.settleBucketDeletes(ctx, name); err != nil {
		return fmt.Errorf("node: delete bucket %s: %w", name, err)
	}
	if err := c.DeleteBucket(ctx, name); err != nil {
		return err
	}
	n.buckets.forget(name)
	return nil
}

// HeadBucket asks the origin whether a bucket exists, every time.
func (n *Node) HeadBucket(ctx context.Context, name string) error {
	c, err := n.catalogOrErr()
	if err != nil {
		return err
	}
	return c.HeadBucket(ctx, name)
}

// CheckBucket is HeadBucket that trusts a recent yes, for the requests
// that must fail with NoSuchBucket when the bucket is gone but should not
// pay a round trip to the origin each.
func (n *Node) CheckBucket(ctx context.Context, name string) error {
	now := time.Now()
	if n.buckets.ok(name, now) {
		return nil
	}
	if err := n.HeadBucket(ctx, name); err != nil {
		return err
	}
	n.buckets.set(name, now)
	return nil
}
