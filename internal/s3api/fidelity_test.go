package s3api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"sphere.software/objstore"
)

// originErr is an SDK-like origin error: an HTTP status and an S3 code.
type originErr struct {
	status int
	code   string
}

func (e originErr) Error() string       { return fmt.Sprintf("%d %s", e.status, e.code) }
func (e originErr) HTTPStatusCode() int { return e.status }
func (e originErr) ErrorCode() string   { return e.code }

func TestCopySourceRange(t *testing.T) {
	for _, tc := range []struct {
		header      string
		start, n    int64
		code        string
		wantStatus  int
		description string
	}{
		{"bytes=0-4", 0, 5, "", 0, "the whole 5-byte source"},
		{"bytes=1-1", 1, 1, "", 0, "one byte"},
		{"bytes=0-21", 0, 0, "InvalidRange", http.StatusRequestedRangeNotSatisfiable, "past the end: not clamped"},
		{"bytes=5-5", 0, 0, "InvalidRange", http.StatusRequestedRangeNotSatisfiable, "starts at the end"},
		{"0-2", 0, 0, "InvalidArgument", http.StatusBadRequest, "no bytes= unit"},
		{"bytes=0", 0, 0, "InvalidArgument", http.StatusBadRequest, "no dash"},
		{"bytes=hello-world", 0, 0, "InvalidArgument", http.StatusBadRequest, "not numbers"},
		{"bytes=0-bar", 0, 0, "InvalidArgument", http.StatusBadRequest, "last not a number"},
		{"bytes=hello-", 0, 0, "InvalidArgument", http.StatusBadRequest, "open end"},
		{"bytes=-2", 0, 0, "InvalidArgument", http.StatusBadRequest, "suffix"},
		{"bytes=0-2,3-4", 0, 0, "InvalidArgument", http.StatusBadRequest, "two ranges"},
		{"bytes=3-1", 0, 0, "InvalidArgument", http.StatusBadRequest, "backwards"},
	} {
		r, err := copySourceRange(tc.header, 5)
		if tc.code == "" {
			if err != nil || r.start != tc.start || r.length != tc.n {
				t.Errorf("%s (%s): %+v %v, want start %d length %d", tc.header, tc.description, r, err, tc.start, tc.n)
			}
			continue
		}
		if code, status := codeOf(err); code != tc.code || status != tc.wantStatus {
			t.Errorf("%s (%s): %s %d, want %s %d", tc.header, tc.description, code, status, tc.code, tc.wantStatus)
		}
	}
}

func TestWriteConditions(t *testing.T) {
	rec := objstore.Record{Sum: objstore.Checksum{MD5: objstore.MD5{0xab}}}
	etag := rec.Sum.ETag()
	bare := etag[1 : len(etag)-1]
	for _, tc := range []struct {
		ifMatch, ifNoneMatch string
		found, want          bool
	}{
		{"", "", false, true},
		{"", "", true, true},
		{etag, "", true, true},
		{bare, "", true, true}, // clients may leave the quotes out
		{`"other"`, "", true, false},
		{etag, "", false, false},
		{"*", "", true, true},
		{"*", "", false, false},
		{"", "*", false, true},
		{"", "*", true, false},
		{"", etag, true, false},
		{"", `"other"`, true, true},
		{"", etag, false, true},
	} {
		c := writeConditions{ifMatch: tc.ifMatch, ifNoneMatch: tc.ifNoneMatch}
		if got := c.hold(rec, tc.found); got != tc.want {
			t.Errorf("If-Match %q If-None-Match %q, object found %v: hold %v, want %v", tc.ifMatch, tc.ifNoneMatch, tc.found, got, tc.want)
		}
	}
}

func TestOriginRefusalRelayed(t *testing.T) {
	for _, tc := range []struct {
		err        error
		code       string
		wantStatus int
	}{
		{fmt.Errorf("node: put: %w", errors.Join(objstore.ErrNoRemote, originErr{409, "ObjectParentIsFile"})), "ObjectParentIsFile", 409},
		{fmt.Errorf("node: put: %w", errors.Join(objstore.ErrNoRemote, originErr{400, "DirectoryObjectContainsData"})), "DirectoryObjectContainsData", 400},
		{fmt.Errorf("node: put: %w", errors.Join(objstore.ErrNoRemote, originErr{404, "NoSuchBucket"})), "NoSuchBucket", 404},
		// objstore's own access to the origin: not the client's doing.
		{errors.Join(objstore.ErrNoRemote, originErr{400, "AuthorizationHeaderMalformed"}), "ServiceUnavailable", 503},
		{errors.Join(objstore.ErrNoRemote, originErr{403, "SignatureDoesNotMatch"}), "ServiceUnavailable", 503},
		{errors.Join(objstore.ErrNoRemote, originErr{500, "InternalError"}), "ServiceUnavailable", 503},
		{errors.Join(objstore.ErrNoRemote, originErr{404, "NoSuchKey"}), "ServiceUnavailable", 503},
	} {
		if code, status := codeOf(tc.err); code != tc.code || status != tc.wantStatus {
			t.Errorf("%v: %s %d, want %s %d", tc.err, code, status, tc.code, tc.wantStatus)
		}
	}
}

func TestHeaderValue(t *testing.T) {
	for in, want := range map[string]string{
		"plain":             "plain",
		"Hello World\u00e9": "Hello World\u00e9",
		"日本":                "日本",
		"a\x04b":            `"a\x04b"`,
		"bad\xffutf8":       `"bad\xffutf8"`,
		"del\x7f":           `"del\x7f"`,
	} {
		if got := headerValue(in); got != want {
			t.Errorf("headerValue(%q) = %q, want %q", in, got, want)
		}
	}
}
