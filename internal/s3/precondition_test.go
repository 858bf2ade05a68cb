package s3

import (
	"errors"
	"fmt"
	"testing"
)

// statusErr is an SDK-like error with an HTTP status and an S3 code.
type statusErr struct {
	status int
	code   string
}

func (e statusErr) Error() string       { return fmt.Sprintf("%d %s", e.status, e.code) }
func (e statusErr) HTTPStatusCode() int { return e.status }
func (e statusErr) ErrorCode() string   { return e.code }

// TestIsPreconditionFailed: only 412 and 409 ConditionalRequestConflict
// mean another write got there first; versitygw's 409 ObjectParentIsFile
// is a refusal of the write, which must not be retried as a race.
func TestIsPreconditionFailed(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{statusErr{412, "PreconditionFailed"}, true},
		{fmt.Errorf("put: %w", statusErr{409, "ConditionalRequestConflict"}), true},
		{statusErr{409, "ObjectParentIsFile"}, false},
		{statusErr{409, "BucketNotEmpty"}, false},
		{statusErr{400, "DirectoryObjectContainsData"}, false},
		{errors.New("connection reset"), false},
		{nil, false},
	} {
		if got := isPreconditionFailed(tc.err); got != tc.want {
			t.Errorf("isPreconditionFailed(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
