package s3

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"sphere.software/objstore"
)

// diagnosis is what an origin error means for the operator.
type diagnosis struct {
	State objstore.OriginState
	// Code is S3's error code, when the origin answered with one.
	Code string
	// Fix says what is wrong and what to check, naming flags and
	// environment variables.
	Fix string
}

// String is the diagnosis as /api/v1/stats and error messages show it.
func (d diagnosis) String() string {
	if d.Code == "" {
		return string(d.State) + ": " + d.Fix
	}
	return string(d.State) + " (" + d.Code + "): " + d.Fix
}

// target is what a diagnosis names: the origin as configured.
type target struct {
	Bucket, Endpoint, Region string
}

func (t target) where() string {
	if t.Endpoint != "" {
		return t.Endpoint
	}
	return "AWS S3 in " + t.Region
}

// credentialsError is a failure to find credentials to sign with. The
// credential provider Remote installs wraps its errors in it, so that a
// request that could not even be signed is told apart from one S3 refused.
type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return "no credentials: " + e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// taggedCredentials wraps a credentials provider's errors in credentialsError.
type taggedCredentials struct{ aws.CredentialsProvider }

func (p taggedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err}
	}
	return c, nil
}

// diagnose classifies err, the failure of a request about t.Bucket. The
// order matters: a request that could not be signed (no credentials) is
// checked first, then the answer's code, then whether an answer came at all
// (the SDK reports a failed send as a response of status 0), and last the
// bare HTTP status.
func diagnose(err error, t target) diagnosis {
	var (
		creds  *credentialsError
		apiErr smithy.APIError
		resp   *smithyhttp.ResponseError
	)
	switch {
	case errors.As(err, &creds):
		return diagnosis{State: objstore.OriginNoCredentials,
			Fix: "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials, or run with an instance or task role"}
	case errors.As(err, &apiErr):
		if d, ok := diagnoseCode(apiErr.ErrorCode(), err, t); ok {
			return d
		}
	}
	if isUnreachable(err) {
		return diagnosis{State: objstore.OriginUnreachable,
			Fix: fmt.Sprintf("no answer from %s: check --s3-endpoint ($S3_ENDPOINT), that the server is up, and DNS, proxy and firewall between the node and it", t.where())}
	}
	if errors.As(err, &resp) && resp.Response != nil {
		return diagnoseStatus(resp.HTTPStatusCode(), err, t)
	}
	return diagnosis{State: objstore.OriginError, Fix: "the origin request failed: " + err.Error()}
}

// diagnoseCode classifies S3's error codes; ok is false for a code that
// says nothing about the configuration.
func diagnoseCode(code string, err error, t target) (diagnosis, bool) {
	d := diagnosis{State: objstore.OriginAccessDenied, Code: code}
	switch code {
	case "InvalidAccessKeyId", "XAdminUserNotFound": // the latter is versitygw's
		d.Fix = "the origin does not know the access key: check AWS_ACCESS_KEY_ID (or the AWS_PROFILE in use)"
	case "SignatureDoesNotMatch":
		d.Fix = "the secret key does not match the access key: check AWS_SECRET_ACCESS_KEY (or the AWS_PROFILE in use)"
	case "InvalidToken", "ExpiredToken", "TokenRefreshRequired":
		d.Fix = "the session token is invalid or expired: check AWS_SESSION_TOKEN, or refresh the credentials"
	case "RequestTimeTooSkewed":
		d.Fix = "the node's clock is too far from the origin's: synchronise it (NTP)"
	case "AccessDenied", "AllAccessDisabled", "AccountProblem":
		d.Fix = fmt.Sprintf("the credentials may not use bucket %s: grant s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on it (IAM or bucket policy)", t.Bucket)
	case "NoSuchBucket":
		d.State = objstore.OriginNoSuchBucket
		d.Fix = noBucketFix(t)
	case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
		d.State = objstore.OriginWrongRegion
		d.Fix = wrongRegionFix(err, t)
	default:
		return diagnosis{}, false
	}
	return d, true
}

// diagnoseStatus classifies an answer without a usable code (a HEAD's, or
// one with an unknown code).
func diagnoseStatus(status int, err error, t target) diagnosis {
	switch {
	case status == 301 || status == 307:
		return diagnosis{State: objstore.OriginWrongRegion, Fix: wrongRegionFix(err, t)}
	case status == 401 || status == 403:
		return diagnosis{State: objstore.OriginAccessDenied,
			Fix: "the origin refuses the credentials: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's permissions"}
	case status == 404:
		return diagnosis{State: objstore.OriginNoSuchBucket, Fix: noBucketFix(t)}
	}
	return diagnosis{State: objstore.OriginError, Fix: fmt.Sprintf("the origin answers HTTP %d: %v", status, err)}
}

func noBucketFix(t target) string {
	return fmt.Sprintf("bucket %s does not exist at %s: create it (aws s3 mb s3://%s), or fix -B/--bucket ($S3_BUCKET_NAME)", t.Bucket, t.where(), t.Bucket)
}

// wrongRegionFix names the bucket's region when S3 said it
// (x-amz-bucket-region).
func wrongRegionFix(err error, t target) string {
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.Response != nil {
		if r := resp.Response.Header.Get("X-Amz-Bucket-Region"); r != "" {
			return fmt.Sprintf("bucket %s is in region %s, the node signs for %s: set -R/--region ($S3_REGION_NAME) to %s", t.Bucket, r, t.Region, r)
		}
	}
	return fmt.Sprintf("bucket %s is not in region %s: set -R/--region ($S3_REGION_NAME) to the bucket's region", t.Bucket, t.Region)
}

// isUnreachable reports whether err means that no answer came: the request
// could not be sent (refused, DNS, TLS), or timed out.
func isUnreachable(err error) bool {
	var (
		send   *smithyhttp.RequestSendError
		netErr net.Error
	)
	return errors.As(err, &send) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded)
}
