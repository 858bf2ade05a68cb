package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore"
)

// GetIfNoneMatch is Get made conditional on the object's ETag: when the
// object's ETag is etag, S3 answers 304 and the error wraps
// objstore.ErrNotModified (no body is sent). Otherwise it is Get.
func (r *Remote) GetIfNoneMatch(ctx context.Context, key objstore.Key, etag string) (io.ReadCloser, objstore.Record, error) {
	if err := checkKey(key); err != nil {
		return nil, objstore.Record{}, fmt.Errorf("s3: conditional get %s: %w", key, err)
	}
	out, err := r.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(key.Bucket), Key: aws.String(key.ID), IfNoneMatch: aws.String(etag)})
	if isNotModified(err) {
		r.health.observe(nil) // a 304 is an answer: the origin is up
		return nil, objstore.Record{}, fmt.Errorf("s3: conditional get %s: %w", key, objstore.ErrNotModified)
	}
	if err != nil {
		return nil, objstore.Record{}, r.note(key, wrap("get", key, err))
	}
	return out.Body, r.getRecord(key, out), nil
}

// isNotModified reports whether err is S3's 304 answer to a conditional GET
// (the SDK returns it as an error: the response has no body to decode).
func isNotModified(err error) bool {
	var status interface{ HTTPStatusCode() int }
	return err != nil && errors.As(err, &status) && status.HTTPStatusCode() == http.StatusNotModified
}
