package s3

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"sphere.software/objstore"
)

const (
	// uploadConcurrency is how many parts are in flight at once.
	uploadConcurrency = 4
	// abortTimeout bounds the AbortMultipartUpload after a failed upload,
	// which runs even when the caller's context is done.
	abortTimeout = 30 * time.Second
)

// putMultipart uploads the body as a multipart upload, aborting it on error.
func (r *Remote) putMultipart(ctx context.Context, rec objstore.Record, meta map[string]string, body io.ReaderAt, c *cond) error {
	h := encodeHeaders(rec.Headers)
	in := &s3.CreateMultipartUploadInput{
		Bucket:             aws.String(rec.Bucket),
		Key:                aws.String(rec.ID),
		Metadata:           meta,
		ContentType:        optional(rec.ContentType),
		CacheControl:       h.CacheControl,
		ContentDisposition: h.ContentDisposition,
		ContentEncoding:    h.ContentEncoding,
		ContentLanguage:    h.ContentLanguage,
		Expires:            h.Expires,
	}
	if tags, ok := encodeTags(rec.UserMeta); ok {
		in.Tagging = aws.String(tags)
	}
	created, err := r.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return wrapPut(rec.Key, err)
	}
	up := upload{client: r.client, bucket: rec.Bucket, key: rec.ID, id: aws.ToString(created.UploadId)}
	parts, err := up.parts(ctx, body, rec.Size(), partSizeFor(rec.Size(), r.partSize))
	if err == nil {
		err = up.complete(ctx, parts, c)
	}
	if err != nil {
		if abortErr := up.abort(ctx); abortErr != nil {
			r.log.Warn("abort multipart upload", "key", rec.Key.String(), "upload", up.id, "err", abortErr)
		}
		return wrapPut(rec.Key, err)
	}
	return nil
}

// partSizeFor returns the part size for a body of size bytes: want, or
// larger when want would need more than maxParts parts.
func partSizeFor(size, want int64) int64 {
	if least := (size + maxParts - 1) / maxParts; least > want {
		return least
	}
	return want
}

// upload is one multipart upload in progress.
type upload struct {
	client          *s3.Client
	bucket, key, id string
}

// parts uploads body in parts of partSize bytes, uploadConcurrency at a time,
// and returns them in order. The first failure cancels the other parts.
func (u upload) parts(ctx context.Context, body io.ReaderAt, size, partSize int64) ([]types.CompletedPart, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	n := int((size + partSize - 1) / partSize)
	parts := make([]types.CompletedPart, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(uploadConcurrency, n) {
		wg.Go(func() {
			for i := range next {
				off := int64(i) * partSize
				part, err := u.part(ctx, int32(i+1), io.NewSectionReader(body, off, min(partSize, size-off)))
				if err != nil {
					cancel(err)
					continue
				}
				parts[i] = part
			}
		})
	}
	feed(ctx, next, n)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return parts, nil
}

// feed sends 0..n-1 on next until ctx is done, then closes next.
func feed(ctx context.Context, next chan<- int, n int) {
	defer close(next)
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			return
		}
	}
}

// part uploads one part.
func (u upload) part(ctx context.Context, num int32, body *io.SectionReader) (types.CompletedPart, error) {
	out, err := u.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:        aws.String(u.bucket),
		Key:           aws.String(u.key),
		UploadId:      aws.String(u.id),
		PartNumber:    aws.Int32(num),
		Body:          body,
		ContentLength: aws.Int64(body.Size()),
	})
	if err != nil {
		return types.CompletedPart{}, err
	}
	return types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)}, nil
}

func (u upload) complete(ctx context.Context, parts []types.CompletedPart, c *cond) error {
	_, err := u.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(u.bucket),
		Key:             aws.String(u.key),
		UploadId:        aws.String(u.id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfMatch:         c.ifMatch,
		IfNoneMatch:     c.ifNoneMatch,
	})
	return err
}

// abort abandons the upload so S3 frees its parts. It runs even when ctx is
// done, within abortTimeout.
func (u upload) abort(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, err := u.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(u.bucket),
		Key:      aws.String(u.key),
		UploadId: aws.String(u.id),
	})
	var noUpload *types.NoSuchUpload
	if errors.As(err, &noUpload) {
		return nil
	}
	return err
}
