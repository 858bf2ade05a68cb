package s3

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore"
)

// Put uploads rec.Size() bytes of body with rec's metadata and its stored
// headers as the object's own: one PutObject up to the part size, a
// multipart upload above it.
func (r *Remote) Put(ctx context.Context, rec objstore.Record, body io.ReaderAt) error {
	return r.put(ctx, rec, body, nil)
}

// PutIf is Put made conditional on the object it replaces: with etag "" it
// lands only when the key holds no object (If-None-Match: *), else only when
// the object's ETag is still etag (If-Match). When the origin holds something
// else, nothing is written and the error wraps objstore.ErrOriginChanged. A
// multipart upload puts the condition on its completion.
//
// An origin that does not implement conditional writes (501) gets plain
// uploads from then on, with a warning: concurrent writers on several nodes
// may then leave it holding the older version, as before conditional writes.
func (r *Remote) PutIf(ctx context.Context, rec objstore.Record, body io.ReaderAt, etag string) error {
	if r.plainPuts.Load() {
		return r.put(ctx, rec, body, nil)
	}
	c := cond{ifNoneMatch: aws.String("*")}
	if etag != "" {
		c = cond{ifMatch: aws.String(etag)}
	}
	err := r.put(ctx, rec, body, &c)
	if !isNotImplemented(err) {
		return err
	}
	if !r.plainPuts.Swap(true) {
		r.log.Warn("origin does not implement conditional writes (If-Match, If-None-Match); uploading without: "+
			"concurrent writes to one key on two nodes may leave the origin holding the older one", "err", err)
	}
	return r.put(ctx, rec, body, nil)
}

// StreamMax is the largest body PutStream takes: one PutObject.
func (r *Remote) StreamMax() int64 { return r.partSize }

// PutStream is PutIf for a body that is still arriving: its reads wait for
// the bytes, and rec.Sum holds only the size, the checksums being unknown
// until the last byte. The object's metadata then carries no checksums
// (Stat takes the MD5 from the ETag) and the upload is neither signed nor
// checked by Content-MD5: the caller compares the returned ETag, the
// origin's MD5 of what it received, with the body's once it is complete.
// Bodies above StreamMax fail.
func (r *Remote) PutStream(ctx context.Context, rec objstore.Record, body io.ReaderAt, etag string) (string, error) {
	if err := checkKey(rec.Key); err != nil {
		return "", fmt.Errorf("s3: put %s: %w", rec.Key, err)
	}
	if rec.Size() < 0 || rec.Size() > r.partSize {
		return "", fmt.Errorf("s3: put %s: a streamed upload is one PutObject of at most %d bytes, not %d", rec.Key, r.partSize, rec.Size())
	}
	meta := encodeMeta(rec)
	if n := metaSize(meta); n > maxMetaSize {
		return "", fmt.Errorf("s3: put %s: %w: object metadata is %d bytes, over S3's %d",
			rec.Key, objstore.ErrInvalidUserMeta, n, maxMetaSize)
	}
	c := &cond{}
	if !r.plainPuts.Load() {
		c.ifNoneMatch = aws.String("*")
		if etag != "" {
			c = &cond{ifMatch: aws.String(etag)}
		}
	}
	// A 501 is not taken for the conditions, as PutIf takes it: it may
	// as well be the aws-chunked framing that the origin lacks. Not
	// retried here (the body cannot be read again from its start while it
	// arrives): the caller's whole-body path uploads it with PutIf, which
	// finds out whether the conditions were refused.
	got, err := r.putObject(ctx, rec, meta, body, c, true)
	return got, r.notePut(rec.Key, err)
}

// isNotImplemented reports whether err is S3's 501 answer.
func isNotImplemented(err error) bool {
	var status interface{ HTTPStatusCode() int }
	return err != nil && errors.As(err, &status) && status.HTTPStatusCode() == http.StatusNotImplemented
}

// cond holds the precondition headers of a conditional upload.
type cond struct {
	ifMatch, ifNoneMatch *string
}

func (r *Remote) put(ctx context.Context, rec objstore.Record, body io.ReaderAt, c *cond) error {
	if c == nil {
		c = &cond{}
	}
	if err := checkKey(rec.Key); err != nil {
		return fmt.Errorf("s3: put %s: %w", rec.Key, err)
	}
	if rec.Size() < 0 {
		return fmt.Errorf("s3: put %s: negative size %d", rec.Key, rec.Size())
	}
	meta := encodeMeta(rec)
	if n := metaSize(meta); n > maxMetaSize {
		return fmt.Errorf("s3: put %s: %w: object metadata is %d bytes, over S3's %d",
			rec.Key, objstore.ErrInvalidUserMeta, n, maxMetaSize)
	}
	if rec.Size() <= r.partSize {
		return r.notePut(rec.Key, r.putSingle(ctx, rec, meta, body, c))
	}
	return r.notePut(rec.Key, r.putMultipart(ctx, rec, meta, body, c))
}

// putSingle uploads the body with one PutObject.
func (r *Remote) putSingle(ctx context.Context, rec objstore.Record, meta map[string]string, body io.ReaderAt, c *cond) error {
	_, err := r.putObject(ctx, rec, meta, body, c, false)
	return err
}

// putObject is one PutObject of body as rec, returning the new object's
// ETag. A streamed body (streaming) is still arriving and its checksums
// are not known yet: it goes framed with a trailing CRC-32C (chunked.go),
// without retries, which could not read it again from its start.
func (r *Remote) putObject(ctx context.Context, rec objstore.Record, meta map[string]string, body io.ReaderAt, c *cond, streaming bool) (string, error) {
	h := encodeHeaders(rec.Headers)
	in := &s3.PutObjectInput{
		Bucket:             aws.String(rec.Bucket),
		Key:                aws.String(rec.ID),
		Body:               io.NewSectionReader(ctxReaderAt{ctx, body}, 0, rec.Size()),
		ContentLength:      aws.Int64(rec.Size()),
		Metadata:           meta,
		ContentType:        optional(rec.ContentType),
		CacheControl:       h.CacheControl,
		ContentDisposition: h.ContentDisposition,
		ContentEncoding:    h.ContentEncoding,
		ContentLanguage:    h.ContentLanguage,
		Expires:            h.Expires,
		IfMatch:            c.ifMatch,
		IfNoneMatch:        c.ifNoneMatch,
	}
	var opts []func(*s3.Options)
	switch {
	case streaming:
		in.Body = newChunkedBody(ctxReaderAt{ctx, body}, rec.Size())
		in.ContentLength = aws.Int64(chunkedLength(rec.Size()))
		opts = append(opts, s3.WithAPIOptions(withChunkedUpload(rec.Size())), func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	case rec.Sum.MD5 != (objstore.MD5{}):
		in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(rec.Sum.MD5[:]))
		// Content-MD5 makes the origin check the bytes, so the payload is
		// not signed: over plain HTTP the SDK would otherwise read the
		// whole body once more for its SHA-256 before sending a byte.
		opts = append(opts, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	}
	if tags, ok := encodeTags(rec.UserMeta); ok {
		in.Tagging = aws.String(tags)
	}
	out, err := r.client.PutObject(ctx, in, opts...)
	if err != nil {
		return "", wrapPut(rec.Key, err)
	}
	return aws.ToString(out.ETag), nil
}

// notePut is note for an upload: a failed precondition is an answer (the
// origin is up) and wraps objstore.ErrOriginChanged.
func (r *Remote) notePut(key objstore.Key, err error) error {
	if isPreconditionFailed(err) {
		r.health.observe(nil)
		return &Error{Op: "put", Key: key, Err: err, Kind: objstore.ErrOriginChanged}
	}
	return r.note(key, err)
}

// isPreconditionFailed reports whether err is S3's answer to a conditional
// write whose condition did not hold: 412, or 409 ConditionalRequestConflict
// when a concurrent conditional write of the key was in progress. Another
// 409 is a refusal of the write itself (versitygw's posix backend answers
// ObjectParentIsFile for a/b/c when a/b is an object) and must not be taken
// for a race, or the upload would read and retry until it gives up.
func isPreconditionFailed(err error) bool {
	var status interface{ HTTPStatusCode() int }
	if err == nil || !errors.As(err, &status) {
		return false
	}
	switch status.HTTPStatusCode() {
	case http.StatusPreconditionFailed:
		return true
	case http.StatusConflict:
		var api interface{ ErrorCode() string }
		return errors.As(err, &api) && api.ErrorCode() == "ConditionalRequestConflict"
	}
	return false
}

// wrapPut wraps a failed upload: whatever S3 answered, even a 404 for a
// missing bucket, the origin did not take the object.
func wrapPut(key objstore.Key, err error) error {
	return &Error{Op: "put", Key: key, Err: err, Kind: objstore.ErrNoRemote}
}

// optional returns nil for an empty string, so the SDK leaves the field out.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ctxReaderAt fails every read once ctx is done, the read that saw it end
// included: the unsigned body streams straight into the request, and a
// request cut short of its Content-Length is one the origin does not keep,
// where a body sent whole after a cancel might still land.
type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	if ctxErr := c.ctx.Err(); ctxErr != nil {
		return 0, ctxErr
	}
	return n, err
}
