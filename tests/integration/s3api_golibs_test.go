package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// minioTool is minio-go v7, path-style, Signature V4.
type minioTool struct {
	ctx context.Context
	c   *minio.Client
}

// minioPartSize is the part size minio-go is told to use: the large file
// goes up in 4 parts.
const minioPartSize = 5 << 20

func startMinio(t *testing.T, ctx context.Context, endpoint string) s3Tool {
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        miniocreds.NewStaticV4(TestAccessKey, TestSecretKey, ""),
		Secure:       false,
		Region:       s3Region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
	if err != nil {
		t.Fatalf("minio.New: %v", err)
	}
	return &minioTool{ctx: ctx, c: c}
}

func (m *minioTool) MakeBucket(bucket string) error {
	return m.c.MakeBucket(m.ctx, bucket, minio.MakeBucketOptions{Region: s3Region})
}

func (m *minioTool) RemoveBucket(bucket string) error { return m.c.RemoveBucket(m.ctx, bucket) }

func (m *minioTool) Upload(bucket, key, file, contentType string, meta map[string]string) error {
	_, err := m.c.FPutObject(m.ctx, bucket, key, file, minio.PutObjectOptions{
		ContentType: contentType, UserMetadata: meta, PartSize: minioPartSize,
	})
	return err
}

func (m *minioTool) Download(bucket, key, file string) error {
	return m.c.FGetObject(m.ctx, bucket, key, file, minio.GetObjectOptions{})
}

func (m *minioTool) Range(bucket, key string, first, last int64) ([]byte, error) {
	var opts minio.GetObjectOptions
	if err := opts.SetRange(first, last); err != nil {
		return nil, err
	}
	obj, err := m.c.GetObject(m.ctx, bucket, key, opts)
	if err != nil {
		return nil, err
	}
	defer func() { _ = obj.Close() }() // read-only body, fully read below
	return io.ReadAll(obj)
}

func (m *minioTool) Head(bucket, key string) (objectHead, error) {
	info, err := m.c.StatObject(m.ctx, bucket, key, minio.StatObjectOptions{})
	h := objectHead{Size: info.Size, ContentType: info.ContentType, Meta: map[string]string{}}
	for k, v := range info.UserMetadata {
		h.Meta[strings.ToLower(k)] = v
	}
	return h, err
}

func (m *minioTool) List(bucket, prefix, delimiter string) ([]string, []string, error) {
	if delimiter != "/" {
		return nil, nil, fmt.Errorf("minio-go lists with the delimiter /, not %q", delimiter)
	}
	var keys, prefixes []string
	for obj := range m.c.ListObjects(m.ctx, bucket, minio.ListObjectsOptions{Prefix: prefix}) {
		switch {
		case obj.Err != nil:
			return keys, prefixes, obj.Err
		case strings.HasSuffix(obj.Key, "/"):
			prefixes = append(prefixes, obj.Key)
		default:
			keys = append(keys, obj.Key)
		}
	}
	return keys, prefixes, nil
}

// ListAll lists recursively with MaxKeys 2: a page of 2 per request.
func (m *minioTool) ListAll(bucket string) ([]string, error) {
	var keys []string
	for obj := range m.c.ListObjects(m.ctx, bucket, minio.ListObjectsOptions{Recursive: true, MaxKeys: 2}) {
		if obj.Err != nil {
			return keys, obj.Err
		}
		keys = append(keys, obj.Key)
	}
	return keys, nil
}

func (m *minioTool) Copy(bucket, src, dst string) error {
	_, err := m.c.CopyObject(m.ctx, minio.CopyDestOptions{Bucket: bucket, Object: dst}, minio.CopySrcOptions{Bucket: bucket, Object: src})
	return err
}

func (m *minioTool) Delete(bucket, key string) error {
	return m.c.RemoveObject(m.ctx, bucket, key, minio.RemoveObjectOptions{})
}

// DeleteMany uses RemoveObjects, which sends DeleteObjects.
func (m *minioTool) DeleteMany(bucket string, keys []string) error {
	ch := make(chan minio.ObjectInfo, len(keys))
	for _, k := range keys {
		ch <- minio.ObjectInfo{Key: k}
	}
	close(ch)
	var errs []error
	for e := range m.c.RemoveObjects(m.ctx, bucket, ch, minio.RemoveObjectsOptions{}) {
		errs = append(errs, fmt.Errorf("%s: %w", e.ObjectName, e.Err))
	}
	return errors.Join(errs...)
}

func (m *minioTool) Presign(bucket, key string) (string, error) {
	u, err := m.c.PresignedGetObject(m.ctx, bucket, key, 5*time.Minute, nil)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// sdkTool is aws-sdk-go-v2: the S3 client for single requests, and its
// transfer manager (the successor of feature/s3/manager) for uploads and
// downloads, with its defaults: multipart from 16 MiB in 8 MiB parts with
// CRC32 checksums, downloads part by part.
type sdkTool struct {
	ctx context.Context
	c   *s3.Client
	tm  *transfermanager.Client
}

func startSDK(t *testing.T, ctx context.Context, endpoint string) s3Tool {
	c := sdkClient(endpoint)
	return &sdkTool{ctx: ctx, c: c, tm: transfermanager.New(c)}
}

func (s *sdkTool) MakeBucket(bucket string) error {
	_, err := s.c.CreateBucket(s.ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	return err
}

func (s *sdkTool) RemoveBucket(bucket string) error {
	_, err := s.c.DeleteBucket(s.ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	return err
}

func (s *sdkTool) Upload(bucket, key, file, contentType string, meta map[string]string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // read-only
	_, err = s.tm.UploadObject(s.ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: f, ContentType: aws.String(contentType), Metadata: meta,
	})
	return err
}

func (s *sdkTool) Download(bucket, key, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	_, err = s.tm.DownloadObject(s.ctx, &transfermanager.DownloadObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), WriterAt: f,
	})
	return errors.Join(err, f.Close())
}

func (s *sdkTool) Range(bucket, key string, first, last int64) ([]byte, error) {
	out, err := s.c.GetObject(s.ctx, &s3.GetObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=%d-%d", first, last)),
	})
	if err != nil {
		return nil, err
	}
	defer func() { _ = out.Body.Close() }() // read-only body, fully read below
	return io.ReadAll(out.Body)
}

func (s *sdkTool) Head(bucket, key string) (objectHead, error) {
	out, err := s.c.HeadObject(s.ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return objectHead{}, err
	}
	return objectHead{Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType), Meta: out.Metadata}, nil
}

func (s *sdkTool) List(bucket, prefix, delimiter string) ([]string, []string, error) {
	out, err := s.c.ListObjectsV2(s.ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String(prefix), Delimiter: aws.String(delimiter),
	})
	if err != nil {
		return nil, nil, err
	}
	var keys, prefixes []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	for _, p := range out.CommonPrefixes {
		prefixes = append(prefixes, aws.ToString(p.Prefix))
	}
	return keys, prefixes, nil
}

// ListAll uses the ListObjectsV2 paginator with Limit 2.
func (s *sdkTool) ListAll(bucket string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)},
		func(o *s3.ListObjectsV2PaginatorOptions) { o.Limit = 2 })
	for p.HasMorePages() {
		page, err := p.NextPage(s.ctx)
		if err != nil {
			return keys, err
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

func (s *sdkTool) Copy(bucket, src, dst string) error {
	_, err := s.c.CopyObject(s.ctx, &s3.CopyObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(dst), CopySource: aws.String(bucket + "/" + src),
	})
	return err
}

func (s *sdkTool) Delete(bucket, key string) error {
	_, err := s.c.DeleteObject(s.ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return err
}

func (s *sdkTool) DeleteMany(bucket string, keys []string) error {
	var objs []types.ObjectIdentifier
	for _, k := range keys {
		objs = append(objs, types.ObjectIdentifier{Key: aws.String(k)})
	}
	out, err := s.c.DeleteObjects(s.ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: objs}})
	if err != nil {
		return err
	}
	return checkDeleted(keys, len(out.Deleted), func(i int) string { return aws.ToString(out.Deleted[i].Key) }, len(out.Errors), out.Errors)
}

func (s *sdkTool) Presign(bucket, key string) (string, error) {
	req, err := s3.NewPresignClient(s.c).PresignGetObject(s.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		return "", err
	}
	return req.URL, nil
}
