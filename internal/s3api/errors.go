package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/multipart"
	"sphere.software/objstore/internal/sigv4"
)

// apiError is an error with the S3 code and HTTP status to answer it with.
type apiError struct {
	Code    string
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// errorf returns an apiError with a formatted message.
func errorf(code string, status int, format string, args ...any) *apiError {
	return &apiError{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// Frequently used errors.
func errInvalidArgument(format string, args ...any) *apiError {
	return errorf("InvalidArgument", http.StatusBadRequest, format, args...)
}

func errNotImplemented(what string) *apiError {
	return errorf("NotImplemented", http.StatusNotImplemented, "%s is not implemented by objstore", what)
}

// s3Codes maps the errors of the node, the origin, the multipart store and
// the signature check to S3 codes, most specific first.
var s3Codes = []struct {
	err    error
	code   string
	status int
}{
	{objstore.ErrLost, "InternalError", http.StatusInternalServerError},
	{objstore.ErrNoSuchBucket, "NoSuchBucket", http.StatusNotFound},
	{objstore.ErrNotFound, "NoSuchKey", http.StatusNotFound},
	{objstore.ErrDeleted, "NoSuchKey", http.StatusNotFound},
	{objstore.ErrBucketNotEmpty, "BucketNotEmpty", http.StatusConflict},
	{objstore.ErrBucketExists, "BucketAlreadyExists", http.StatusConflict},
	{objstore.ErrInvalidBucket, "InvalidBucketName", http.StatusBadRequest},
	{objstore.ErrInvalidKey, "InvalidArgument", http.StatusBadRequest},
	{objstore.ErrInvalidLevel, "InvalidArgument", http.StatusBadRequest},
	{objstore.ErrInvalidWriteMode, "InvalidArgument", http.StatusBadRequest},
	{objstore.ErrLevelLowered, "InvalidArgument", http.StatusBadRequest},
	{objstore.ErrInvalidUserMeta, "MetadataTooLarge", http.StatusBadRequest},
	{objstore.ErrTooLarge, "EntityTooLarge", http.StatusBadRequest},
	{objstore.ErrIncomplete, "IncompleteBody", http.StatusBadRequest},
	{objstore.ErrInsufficientStorage, "ServiceUnavailable", http.StatusServiceUnavailable},
	{objstore.ErrUnavailable, "ServiceUnavailable", http.StatusServiceUnavailable},
	{objstore.ErrNoRemote, "ServiceUnavailable", http.StatusServiceUnavailable},
	{objstore.ErrChecksum, "InternalError", http.StatusInternalServerError},
	{multipart.ErrNoSuchUpload, "NoSuchUpload", http.StatusNotFound},
	{multipart.ErrInvalidPart, "InvalidPart", http.StatusBadRequest},
	{multipart.ErrInvalidPartOrder, "InvalidPartOrder", http.StatusBadRequest},
	{multipart.ErrEntityTooSmall, "EntityTooSmall", http.StatusBadRequest},
	{multipart.ErrInvalidPartNumber, "InvalidArgument", http.StatusBadRequest},
	{multipart.ErrMalformedComplete, "MalformedXML", http.StatusBadRequest},
	{context.Canceled, "RequestTimeout", http.StatusBadRequest},
	{context.DeadlineExceeded, "RequestTimeout", http.StatusBadRequest},
}

// codeOf returns the S3 code and status for err.
func codeOf(err error) (code string, status int) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Code, ae.Status
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return "EntityTooLarge", http.StatusBadRequest
	}
	if code, status := sigv4.Code(err); code != "InternalError" {
		return code, status
	}
	if code, status, ok := originRefusal(err); ok {
		return code, status
	}
	for _, c := range s3Codes {
		if errors.Is(err, c.err) {
			return c.code, c.status
		}
	}
	return "InternalError", http.StatusInternalServerError
}

// originConfigCodes are origin answers about objstore's own access to the
// origin (its keys, clock, region): a client's request did not cause them,
// so they stay a 503 instead of being relayed.
var originConfigCodes = map[string]bool{
	"AuthorizationHeaderMalformed": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
	"InvalidToken": true, "ExpiredToken": true, "RequestTimeTooSkewed": true, "AccessDenied": true,
	"InvalidRequest": true, "MissingSecurityHeader": true,
}

// originRefusal is the origin's own 400 or 409 to a write of this object,
// relayed as the origin gave it: the origin understood the request and
// refused what it asks (versitygw's posix backend cannot hold a/b/c beside
// an object a/b: 409 ObjectParentIsFile; nor a body under a key ending in
// "/": 400 DirectoryObjectContainsData). Retrying cannot help, so a 503
// would send a client into retries; S3 clients know these codes from the
// origin itself. A bucket the origin no longer has is NoSuchBucket.
func originRefusal(err error) (code string, status int, ok bool) {
	var (
		hs  interface{ HTTPStatusCode() int }
		api interface{ ErrorCode() string }
	)
	if !errors.As(err, &hs) || !errors.As(err, &api) {
		return "", 0, false
	}
	status, code = hs.HTTPStatusCode(), api.ErrorCode()
	switch {
	case code == "" || originConfigCodes[code]:
		return "", 0, false
	case status == http.StatusBadRequest, status == http.StatusConflict:
		return code, status, true
	case status == http.StatusNotFound && code == "NoSuchBucket":
		// The bucket went away while the body arrived (s3-tests
		// test_atomic_write_bucket_gone).
		return code, status, true
	}
	return "", 0, false
}

// errorBody is S3's XML error document.
type errorBody struct {
	XMLName  xml.Name `xml:"Error"`
	Code     string   `xml:"Code"`
	Message  string   `xml:"Message"`
	Bucket   string   `xml:"BucketName,omitempty"`
	Key      string   `xml:"Key,omitempty"`
	Resource string   `xml:"Resource,omitempty"`
	// Region is the region a signature must be scoped to, set when it named
	// another: clients (s3cmd) read it to sign again, as with AWS S3.
	Region    string `xml:"Region,omitempty"`
	RequestID string `xml:"RequestId"`
}

// regionOf is the region an error's <Region> element names: the expected
// one when err is a signature scoped to the wrong region, else "".
func regionOf(err error) string {
	var re *sigv4.RegionError
	if errors.As(err, &re) {
		return re.Want
	}
	return ""
}

// messageOf is the message of an error body: an apiError's own message,
// else the error's text (which names the key and the cause).
func messageOf(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}
