package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"sphere.software/objstore"
)

// s3Answer is an S3 error answer as the SDK reports it.
func s3Answer(status int, code string, header http.Header) error {
	var err error = errors.New("no body")
	if code != "" {
		err = &smithy.GenericAPIError{Code: code, Message: "m"}
	}
	resp := &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: header}}
	return &smithy.OperationError{ServiceID: "S3", OperationName: "ListObjectsV2",
		Err: &smithyhttp.ResponseError{Response: resp, Err: err}}
}

func TestDiagnose(t *testing.T) {
	tg := target{Bucket: "bkt", Endpoint: "http://127.0.0.1:9", Region: "us-east-1"}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	tests := []struct {
		name  string
		err   error
		state objstore.OriginState
		fix   string // a part of the fix
	}{
		{"wrong secret", s3Answer(403, "SignatureDoesNotMatch", nil), objstore.OriginAccessDenied, "AWS_SECRET_ACCESS_KEY"},
		{"unknown key", s3Answer(403, "InvalidAccessKeyId", nil), objstore.OriginAccessDenied, "AWS_ACCESS_KEY_ID"},
		{"unknown key, versitygw", s3Answer(404, "XAdminUserNotFound", nil), objstore.OriginAccessDenied, "AWS_ACCESS_KEY_ID"},
		{"policy", s3Answer(403, "AccessDenied", nil), objstore.OriginAccessDenied, "s3:ListBucket"},
		{"expired token", s3Answer(400, "ExpiredToken", nil), objstore.OriginAccessDenied, "AWS_SESSION_TOKEN"},
		{"clock", s3Answer(403, "RequestTimeTooSkewed", nil), objstore.OriginAccessDenied, "NTP"},
		{"bare 403", s3Answer(403, "", nil), objstore.OriginAccessDenied, "AWS_SECRET_ACCESS_KEY"},
		{"missing bucket", s3Answer(404, "NoSuchBucket", nil), objstore.OriginNoSuchBucket, "-B/--bucket"},
		{"bare 404", s3Answer(404, "", nil), objstore.OriginNoSuchBucket, "aws s3 mb s3://bkt"},
		{"redirect", s3Answer(301, "PermanentRedirect", http.Header{"X-Amz-Bucket-Region": {"eu-west-1"}}), objstore.OriginWrongRegion, "-R/--region ($S3_REGION_NAME) to eu-west-1"},
		{"bare 301", s3Answer(301, "", nil), objstore.OriginWrongRegion, "-R/--region"},
		{"no credentials", &smithy.OperationError{Err: fmt.Errorf("get identity: %w", &credentialsError{errors.New("no EC2 IMDS role found")})},
			objstore.OriginNoCredentials, "AWS_ACCESS_KEY_ID"},
		{"refused", &smithy.OperationError{Err: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{}},
			Err: &smithyhttp.RequestSendError{Err: refused}}}, objstore.OriginUnreachable, "--s3-endpoint"},
		{"dns", &net.DNSError{Err: "no such host", Name: "s3.example"}, objstore.OriginUnreachable, "http://127.0.0.1:9"},
		{"timeout", fmt.Errorf("probe: %w", context.DeadlineExceeded), objstore.OriginUnreachable, "no answer"},
		{"server error", s3Answer(500, "InternalError", nil), objstore.OriginError, "HTTP 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := diagnose(tt.err, tg)
			if d.State != tt.state || !strings.Contains(d.Fix, tt.fix) {
				t.Errorf("diagnose(%v) = %+v, want state %s and a fix naming %q", tt.err, d, tt.state, tt.fix)
			}
		})
	}
}

// Only failures that hold for every bucket make a healthy origin probe again.
func TestConcernsAll(t *testing.T) {
	tg := target{Bucket: "other"}
	for code, want := range map[string]bool{"SignatureDoesNotMatch": true, "InvalidAccessKeyId": true, "AccessDenied": false, "NoSuchBucket": false} {
		if got := concernsAll(diagnose(s3Answer(403, code, nil), tg)); got != want {
			t.Errorf("%s: concernsAll %v, want %v", code, got, want)
		}
	}
}
