package s3

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"sphere.software/objstore"
)

// maxListRequests bounds the ListObjectsV2 requests one List sends when the
// defensive filter leaves a page short, and maxBucketPages the ListBuckets
// pages ListBuckets follows, so that a misbehaving server cannot keep a
// call looping.
const (
	maxListRequests = 10
	maxBucketPages  = 100
)

// lastRune is the greatest Unicode code point. S3 keys are UTF-8, so
// prefix+lastRune sorts after nearly every key that starts with prefix; it
// is how List asks S3 to start after a whole common prefix.
const lastRune = "\U0010FFFF"

// ListBuckets returns the buckets of the account, sorted by name.
func (r *Remote) ListBuckets(ctx context.Context) ([]objstore.Bucket, error) {
	var buckets []objstore.Bucket
	in := &s3.ListBucketsInput{}
	for range maxBucketPages {
		out, err := r.client.ListBuckets(ctx, in)
		if err != nil {
			return nil, wrapBucket("list buckets", "", err)
		}
		for _, b := range out.Buckets {
			buckets = append(buckets, objstore.Bucket{Name: aws.ToString(b.Name), Created: aws.ToTime(b.CreationDate)})
		}
		token := aws.ToString(out.ContinuationToken)
		if token == "" || token == aws.ToString(in.ContinuationToken) {
			break
		}
		in.ContinuationToken = out.ContinuationToken
	}
	slices.SortFunc(buckets, func(a, b objstore.Bucket) int { return strings.Compare(a.Name, b.Name) })
	return buckets, nil
}

// CreateBucket creates a bucket; one this account already owns is not an
// error. S3 decides which names are valid.
func (r *Remote) CreateBucket(ctx context.Context, name string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if r.cfg.Endpoint == "" && r.region != defaultRegion {
		// AWS creates buckets in us-east-1 unless told otherwise, and
		// refuses a request sent to another region's endpoint without
		// it. S3-compatible servers name regions their own way, so they
		// get no constraint.
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(r.region),
		}
	}
	_, err := r.client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return wrapBucket("create bucket", name, err)
	}
	return nil
}

// DeleteBucket deletes an empty bucket.
func (r *Remote) DeleteBucket(ctx context.Context, name string) error {
	if _, err := r.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
		return wrapBucket("delete bucket", name, err)
	}
	return nil
}

// HeadBucket reports whether a bucket exists and is reachable.
func (r *Remote) HeadBucket(ctx context.Context, name string) error {
	if _, err := r.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err != nil {
		return wrapBucket("head bucket", name, err)
	}
	return nil
}

// wrapBucket classifies err from a bucket operation: S3's error codes map to
// the bucket sentinels, anything else (network, 5xx, access denied) to
// objstore.ErrNoRemote.
func wrapBucket(op, bucket string, err error) error {
	return &Error{Op: op, Key: objstore.Key{Bucket: bucket}, Err: err, Kind: bucketKind(err)}
}

// bucketKind returns the sentinel for err. The SDK models few of these
// errors as types, so it matches S3's error code; HEAD answers carry no
// body and hence no code, so a bare 404 also means a missing bucket.
func bucketKind(err error) error {
	var (
		coded  interface{ ErrorCode() string }
		status interface{ HTTPStatusCode() int }
	)
	if errors.As(err, &coded) {
		switch coded.ErrorCode() {
		case "NoSuchBucket", "NotFound":
			return objstore.ErrNoSuchBucket
		case "BucketNotEmpty":
			return objstore.ErrBucketNotEmpty
		case "BucketAlreadyExists":
			return objstore.ErrBucketExists
		case "InvalidBucketName":
			return objstore.ErrInvalidBucket
		}
	}
	if errors.As(err, &status) && status.HTTPStatusCode() == http.StatusNotFound {
		return objstore.ErrNoSuchBucket
	}
	return objstore.ErrNoRemote
}

// List returns one page of bucket's keys; see objstore.ListQuery. It
// merges the objects and common prefixes S3 returns in two lists into one
// sorted sequence.
//
// It asks S3 for one key more than the page holds, so that Truncated is
// exact: some S3-compatible servers (versitygw) report a listing truncated
// when they merely have not looked further. S3 serves at most MaxListKeys
// keys per request, so for a page of that size List trusts the server, and
// a last page may then be followed by an empty one. When the server
// answers with fewer keys than asked but says more follow (or filtering
// dropped some), List follows its continuation token, a few times at most.
func (r *Remote) List(ctx context.Context, bucket string, q objstore.ListQuery) (objstore.ListPage, error) {
	m := newMerger(q)
	ask := min(m.max+1, objstore.MaxListKeys)
	in := &s3.ListObjectsV2Input{
		Bucket:     aws.String(bucket),
		Prefix:     optional(q.Prefix),
		Delimiter:  optional(q.Delimiter),
		StartAfter: optional(q.StartAfter),
		MaxKeys:    aws.Int32(int32(ask)),
	}
	if m.skip != "" {
		in.StartAfter = aws.String(m.skip + lastRune)
	}
	for range maxListRequests {
		out, err := r.client.ListObjectsV2(ctx, in)
		if err != nil {
			return objstore.ListPage{}, wrapBucket("list", bucket, err)
		}
		m.add(out)
		more := aws.ToBool(out.IsTruncated) && aws.ToString(out.NextContinuationToken) != ""
		switch {
		case len(m.items) > m.max || !more:
			return m.page(more), nil
		case len(m.items) == m.max && ask == m.max: // no room to look ahead
			return m.page(true), nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	if len(m.items) == 0 {
		// Every key S3 returned was filtered out: there is no key or
		// prefix to resume after without repeating them.
		return objstore.ListPage{}, &Error{Op: "list", Key: objstore.Key{Bucket: bucket}, Kind: objstore.ErrNoRemote,
			Err: errors.New("no listable key in the pages S3 returned")}
	}
	return m.page(true), nil
}

// merger collects the objects and common prefixes of ListObjectsV2 answers
// that belong in a page, filtering them again as a defence against servers
// that take StartAfter or the delimiter loosely.
type merger struct {
	q     objstore.ListQuery
	max   int
	skip  string // the common prefix StartAfter stands for, or ""
	items []item
	seen  map[string]bool // the common prefixes in items
}

// item is an object or, when prefix is true, a common prefix.
type item struct {
	key    string
	prefix bool
	entry  objstore.ListEntry
}

func newMerger(q objstore.ListQuery) *merger {
	return &merger{q: q, max: q.PageSize(), skip: skippedPrefix(q), seen: map[string]bool{}}
}

func (m *merger) add(out *s3.ListObjectsV2Output) {
	for _, o := range out.Contents {
		key := aws.ToString(o.Key)
		if !m.wanted(key) {
			continue
		}
		if cp := m.q.CommonPrefix(key); cp != "" {
			m.addPrefix(cp)
			continue
		}
		m.items = append(m.items, item{key: key, entry: objstore.ListEntry{
			Key:      key,
			Size:     aws.ToInt64(o.Size),
			ETag:     quoteETag(aws.ToString(o.ETag)),
			Modified: aws.ToTime(o.LastModified),
		}})
	}
	for _, p := range out.CommonPrefixes {
		if cp := aws.ToString(p.Prefix); m.wanted(cp) {
			m.addPrefix(cp)
		}
	}
}

func (m *merger) addPrefix(cp string) {
	if !m.seen[cp] {
		m.seen[cp] = true
		m.items = append(m.items, item{key: cp, prefix: true})
	}
}

// wanted reports whether a key or common prefix S3 returned may be listed.
func (m *merger) wanted(key string) bool {
	return strings.HasPrefix(key, m.q.Prefix) && key > m.q.StartAfter &&
		(m.skip == "" || !strings.HasPrefix(key, m.skip))
}

// page sorts the items and cuts them at max. more reports whether S3 has
// keys after the ones it returned.
func (m *merger) page(more bool) objstore.ListPage {
	slices.SortFunc(m.items, func(a, b item) int { return strings.Compare(a.key, b.key) })
	var p objstore.ListPage
	if len(m.items) > m.max {
		m.items, more = m.items[:m.max], true
	}
	for _, it := range m.items {
		if it.prefix {
			p.Prefixes = append(p.Prefixes, it.key)
		} else {
			p.Objects = append(p.Objects, it.entry)
		}
	}
	if more && len(m.items) > 0 {
		p.Truncated, p.Next = true, m.items[len(m.items)-1].key
	}
	return p
}

// skippedPrefix returns the common prefix that q.StartAfter stands for, or
// "": a page that ended with common prefix P resumes after P, and must not
// list the keys under P that S3 would otherwise return after P itself.
func skippedPrefix(q objstore.ListQuery) string {
	return q.CommonPrefix(q.StartAfter)
}

// quoteETag returns etag in the double quotes S3 documents, which some
// servers leave out.
func quoteETag(etag string) string {
	if etag == "" || strings.HasPrefix(etag, `"`) {
		return etag
	}
	return `"` + etag + `"`
}
