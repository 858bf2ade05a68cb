package sigv4_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"sphere.software/objstore/internal/sigv4"
)

// A request signed with Signature Version 2, in the header or as a presigned
// URL, is told that Version 2 is not supported, not that it is anonymous.
func TestSigV2Refused(t *testing.T) {
	v := sigv4.NewVerifier([]sigv4.Credentials{{AccessKey: testAccessKey, SecretKey: testSecretKey}}, testRegion, nil)
	tests := []struct {
		name, target, auth, message string
	}{
		{"header", "/bucket/k", "AWS " + testAccessKey + ":frJIUN8DYpKDtOLCwo//yllqDzg=",
			"The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."},
		{"presigned", "/bucket/k?AWSAccessKeyId=" + testAccessKey + "&Expires=1700000000&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D", "",
			"Signature Version 2 presigned URLs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			_, err := v.Verify(r)
			if !errors.Is(err, sigv4.ErrSigV2) || errors.Is(err, sigv4.ErrMissingAuth) {
				t.Fatalf("Verify: %v, want ErrSigV2", err)
			}
			if code, status := sigv4.Code(err); code != "InvalidRequest" || status != http.StatusBadRequest {
				t.Errorf("Code: %s %d, want InvalidRequest 400", code, status)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("message %q does not say %q", err, tt.message)
			}
		})
	}
}

// A Version 4 presigned URL that also carries parameters named like Version
// 2's is verified as Version 4.
func TestSigV2NamesInV4Presign(t *testing.T) {
	v := sigv4.NewVerifier([]sigv4.Credentials{{AccessKey: testAccessKey, SecretKey: testSecretKey}}, testRegion, nil)
	r := httptest.NewRequest(http.MethodGet, "/bucket/k?AWSAccessKeyId=x&Signature=y&X-Amz-Algorithm=AWS4-HMAC-SHA256", nil)
	if _, err := v.Verify(r); errors.Is(err, sigv4.ErrSigV2) || !errors.Is(err, sigv4.ErrMalformedQuery) {
		t.Errorf("Verify: %v, want a malformed Version 4 presigned URL", err)
	}
}

// A signature for another region names the expected one, for the <Region>
// element clients read to sign again.
func TestWrongRegionNamesRegion(t *testing.T) {
	v := sigv4.NewVerifier([]sigv4.Credentials{{AccessKey: testAccessKey, SecretKey: testSecretKey}}, testRegion, func() time.Time { return testTime })
	r := httptest.NewRequest(http.MethodGet, "/bucket/k", nil)
	r.Header.Set("X-Amz-Content-Sha256", unsigned)
	if err := v4.NewSigner().SignHTTP(t.Context(), creds(), r, unsigned, "s3", "US", testTime); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(r)
	var re *sigv4.RegionError
	if !errors.As(err, &re) || re.Got != "US" || re.Want != testRegion || !errors.Is(err, sigv4.ErrMalformedAuth) {
		t.Fatalf("Verify: %v, want a RegionError US → %s wrapping ErrMalformedAuth", err, testRegion)
	}
	if code, _ := sigv4.Code(err); code != "AuthorizationHeaderMalformed" {
		t.Errorf("Code: %s", code)
	}
}
