package sigv4

import "strings"

// The messages of a request signed with AWS Signature Version 2. The
// header's is AWS's own answer, word for word: s3cmd (signature_v2 = True)
// recognises it and signs again with Version 4 (S3._http_400_handler). No
// client reads the presigned URL's, so it says what to do.
const (
	sigV2HeaderMessage  = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
	sigV2PresignMessage = "AWS Signature Version 2 presigned URLs (AWSAccessKeyId, Signature, Expires) are not supported. " +
		"Please use AWS4-HMAC-SHA256: presign with Signature Version 4 (X-Amz-Algorithm=AWS4-HMAC-SHA256), " +
		"e.g. with AWS CLI v2, or AWS CLI v1 with s3.signature_version = s3v4 in ~/.aws/config."
)

// sigV2Error is a request signed with Signature Version 2. It wraps ErrSigV2.
type sigV2Error struct{ msg string }

func (e *sigV2Error) Error() string { return e.msg }
func (e *sigV2Error) Unwrap() error { return ErrSigV2 }

// checkSigV2 returns a *sigV2Error if a request is signed with AWS Signature
// Version 2: an Authorization header "AWS <access key>:<signature>", or the
// query parameters AWSAccessKeyId and Signature of a Version 2 presigned URL
// (as AWS CLI v1 and old SDKs make them). query is nil when it did not parse;
// presigned says it holds Version 4 presigning parameters, which win.
func checkSigV2(header string, query []queryParam, presigned bool) error {
	if header != "" {
		if strings.HasPrefix(header, "AWS ") && strings.Contains(header, ":") {
			return &sigV2Error{sigV2HeaderMessage}
		}
		return nil
	}
	if presigned {
		return nil
	}
	var key, sig bool
	for _, p := range query {
		switch p.name {
		case "AWSAccessKeyId":
			key = true
		case "Signature":
			sig = true
		}
	}
	if key && sig {
		return &sigV2Error{sigV2PresignMessage}
	}
	return nil
}
