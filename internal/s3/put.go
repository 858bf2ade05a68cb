package s3

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore"
)

// Put uploads rec.Size() bytes of body with rec's metadata and its stored
// headers as the object's own: one PutObject up to the part size, a
// multipart upload above it.
func (r *Remote) Put(ctx context.Context, rec objstore.Record, body io.ReaderAt) error {
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
		return r.note(rec.Key, r.putSingle(ctx, rec, meta, body))
	}
	return r.note(rec.Key, r.putMultipart(ctx, rec, meta, body))
}

// putSingle uploads the body with one PutObject.
func (r *Remote) putSingle(ctx context.Context, rec objstore.Record, meta map[string]string, body io.ReaderAt) error {
	h := encodeHeaders(rec.Headers)
	in := &s3.PutObjectInput{
		Bucket:             aws.String(rec.Bucket),
		Key:                aws.String(rec.ID),
		Body:               io.NewSectionReader(body, 0, rec.Size()),
		ContentLength:      aws.Int64(rec.Size()),
		Metadata:           meta,
		ContentType:        optional(rec.ContentType),
		CacheControl:       h.CacheControl,
		ContentDisposition: h.ContentDisposition,
		ContentEncoding:    h.ContentEncoding,
		ContentLanguage:    h.ContentLanguage,
		Expires:            h.Expires,
	}
	if rec.Sum.MD5 != (objstore.MD5{}) {
		in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(rec.Sum.MD5[:]))
	}
	if tags, ok := encodeTags(rec.UserMeta); ok {
		in.Tagging = aws.String(tags)
	}
	if _, err := r.client.PutObject(ctx, in); err != nil {
		return wrapPut(rec.Key, err)
	}
	return nil
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
