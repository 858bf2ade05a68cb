package sigv4

import (
	"errors"
	"fmt"
	"net/http"
)

// The sentinel errors Verify and the payload readers it installs return,
// wrapped with context. Match them with errors.Is; Code maps them to the S3
// error code and HTTP status to answer with.
var (
	// ErrMissingAuth means the request carries neither an Authorization
	// header nor presigned query parameters (an anonymous request).
	ErrMissingAuth = errors.New("missing authentication")
	// ErrInvalidAccessKey means the access key in the credential is unknown.
	ErrInvalidAccessKey = errors.New("invalid access key id")
	// ErrSignatureMismatch means a request, chunk or trailer signature does
	// not match the one computed with the access key's secret.
	ErrSignatureMismatch = errors.New("signature does not match")
	// ErrRequestExpired means a presigned URL is past X-Amz-Date plus
	// X-Amz-Expires.
	ErrRequestExpired = errors.New("request has expired")
	// ErrNotYetValid means a presigned URL is dated more than the allowed
	// clock skew in the future.
	ErrNotYetValid = errors.New("request is not valid yet")
	// ErrTimeSkewed means a header-signed request is dated more than the
	// allowed clock skew away from the server's clock.
	ErrTimeSkewed = errors.New("request time too skewed")
	// ErrUnsignedHeader means an x-amz-* header is present but not listed in
	// the signed headers, so it could have been added in transit.
	ErrUnsignedHeader = errors.New("x-amz-* header present but not signed")
	// ErrMalformedAuth means the Authorization header, the credential scope,
	// the date or x-amz-content-sha256 cannot be used as sent.
	ErrMalformedAuth = errors.New("malformed authorization")
	// ErrMalformedQuery means the presigned query parameters cannot be used
	// as sent. It wraps ErrMalformedAuth.
	ErrMalformedQuery = fmt.Errorf("%w: presigned query parameters", ErrMalformedAuth)
	// ErrContentSHA256Mismatch means the payload read does not hash to the
	// signed x-amz-content-sha256.
	ErrContentSHA256Mismatch = errors.New("x-amz-content-sha256 does not match the payload")
	// ErrChecksumMismatch means the payload read does not match the
	// x-amz-checksum-* trailer sent after it.
	ErrChecksumMismatch = errors.New("payload checksum does not match its trailer")
	// ErrMalformedChunk means an aws-chunked body is cut short, badly framed,
	// or decodes to a length other than x-amz-decoded-content-length.
	ErrMalformedChunk = errors.New("malformed aws-chunked body")
	// ErrSigV2 means the request is signed with AWS Signature Version 2
	// (an "AWS AK:signature" Authorization header, or AWSAccessKeyId and
	// Signature query parameters), which objstore does not verify. The
	// error Verify returns wraps it with a message for the client (see
	// sigV2Error).
	ErrSigV2 = errors.New("aws signature version 2 is not supported")
)

// RegionError is a credential scope that names another region than the
// Verifier's. It wraps ErrMalformedAuth (or ErrMalformedQuery), and carries
// the expected region so that the S3 error can name it in its <Region>
// element, which clients such as s3cmd read to sign again for the right
// region, as AWS S3 does.
type RegionError struct {
	Got, Want string
	Err       error // ErrMalformedAuth or ErrMalformedQuery
}

func (e *RegionError) Error() string {
	return fmt.Sprintf("sigv4: the region %q is wrong; expecting %q: %v", e.Got, e.Want, e.Err)
}

// Unwrap returns the malformed-signature sentinel.
func (e *RegionError) Unwrap() error { return e.Err }

// codes maps each sentinel to its S3 error code and HTTP status, most
// specific first (ErrMalformedQuery before the ErrMalformedAuth it wraps).
var codes = []struct {
	err    error
	code   string
	status int
}{
	{ErrMissingAuth, "AccessDenied", http.StatusForbidden},
	{ErrSigV2, "InvalidRequest", http.StatusBadRequest},
	{ErrInvalidAccessKey, "InvalidAccessKeyId", http.StatusForbidden},
	{ErrSignatureMismatch, "SignatureDoesNotMatch", http.StatusForbidden},
	{ErrRequestExpired, "AccessDenied", http.StatusForbidden},
	{ErrNotYetValid, "AccessDenied", http.StatusForbidden},
	{ErrTimeSkewed, "RequestTimeTooSkewed", http.StatusForbidden},
	{ErrUnsignedHeader, "AccessDenied", http.StatusForbidden},
	{ErrMalformedQuery, "AuthorizationQueryParametersError", http.StatusBadRequest},
	{ErrMalformedAuth, "AuthorizationHeaderMalformed", http.StatusBadRequest},
	{ErrContentSHA256Mismatch, "XAmzContentSHA256Mismatch", http.StatusBadRequest},
	{ErrChecksumMismatch, "BadDigest", http.StatusBadRequest},
	{ErrMalformedChunk, "IncompleteBody", http.StatusBadRequest},
}

// Code returns the S3 error code and HTTP status for an error from Verify or
// from reading the body it installed. A nil error gives ("", 200); an error
// that is none of this package's gives ("InternalError", 500).
func Code(err error) (code string, status int) {
	if err == nil {
		return "", http.StatusOK
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code, c.status
		}
	}
	return "InternalError", http.StatusInternalServerError
}
