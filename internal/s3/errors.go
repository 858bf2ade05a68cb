package s3

import (
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"sphere.software/objstore"
)

// Error is a failed S3 request. It wraps the SDK's error and a sentinel:
// objstore.ErrNotFound for a missing object, objstore.ErrNoRemote for any
// other failure, so callers match it with errors.Is.
type Error struct {
	Op  string       // "get", "stat", "put", "delete", "check", "create bucket"
	Key objstore.Key // the object; only Bucket is set for bucket operations
	Err error        // the SDK's error
	// Kind is objstore.ErrNotFound or objstore.ErrNoRemote.
	Kind error
}

func (e *Error) Error() string {
	target := e.Key.String()
	if e.Key.ID == "" {
		target = e.Key.Bucket
	}
	return "s3: " + e.Op + " " + target + ": " + e.Err.Error()
}

// Unwrap returns the sentinel and the SDK's error.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// wrap classifies err from an S3 call on key.
func wrap(op string, key objstore.Key, err error) error {
	kind := objstore.ErrNoRemote
	if isNotFound(err) {
		kind = objstore.ErrNotFound
	}
	return &Error{Op: op, Key: key, Err: err, Kind: kind}
}

// isNotFound reports whether err is S3's answer for a missing object or bucket.
func isNotFound(err error) bool {
	var (
		noKey    *types.NoSuchKey
		notFound *types.NotFound
		noBucket *types.NoSuchBucket
		status   interface{ HTTPStatusCode() int }
	)
	switch {
	case errors.As(err, &noKey), errors.As(err, &notFound), errors.As(err, &noBucket):
		return true
	case errors.As(err, &status):
		return status.HTTPStatusCode() == http.StatusNotFound
	}
	return false
}
