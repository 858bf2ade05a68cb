package s3

import (
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/deadline"
)

// Error is a failed S3 request. It wraps the SDK's error and a sentinel:
// objstore.ErrNotFound for a missing object, one of the bucket sentinels
// (objstore.ErrNoSuchBucket, ...) for a bucket operation S3 refused, and
// objstore.ErrNoRemote for any other failure, so callers match it with
// errors.Is.
type Error struct {
	// Op is "get", "stat", "put", "delete", "check", "list", "list buckets",
	// "create bucket", "delete bucket" or "head bucket".
	Op string
	// Key is the object; only Bucket is set for bucket operations and
	// List, nothing for ListBuckets.
	Key objstore.Key
	Err error // the SDK's error
	// Kind is objstore.ErrNotFound, a bucket sentinel or objstore.ErrNoRemote.
	Kind error
	// Diag, when set, says what the failure means for the operator and
	// what to fix, e.g. "origin access_denied (SignatureDoesNotMatch): the
	// secret key does not match the access key: check AWS_SECRET_ACCESS_KEY".
	Diag string
}

func (e *Error) Error() string {
	target := e.Key.String()
	if e.Key.ID == "" {
		target = e.Key.Bucket
	}
	msg := e.Err.Error()
	if e.Diag != "" {
		msg = e.Diag + "; " + msg
	}
	if target == "" {
		return "s3: " + e.Op + ": " + msg
	}
	return "s3: " + e.Op + " " + target + ": " + msg
}

// Unwrap returns the sentinel and the SDK's error, and objstore.ErrTimeout
// when the request hit a deadline (see Config.Deadlines).
func (e *Error) Unwrap() []error {
	if deadline.IsTimeout(e.Err) {
		return []error{e.Kind, objstore.ErrTimeout, e.Err}
	}
	return []error{e.Kind, e.Err}
}

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
