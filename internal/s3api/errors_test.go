package s3api

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// emptyPayload is the SHA-256 of an empty payload.
const emptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// errorDoc is the part of an S3 error document the tests read.
type errorDoc struct {
	Code, Message, Region string
}

// doError sends r and returns its status and error document.
func doError(t *testing.T, r *http.Request) (int, errorDoc) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var doc errorDoc
	if resp.StatusCode != http.StatusOK {
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v in %q", resp.Status, err, b)
		}
	}
	return resp.StatusCode, doc
}

// A signature for another region (s3cmd signs for "US" by default) is
// told the node's region in <Region>, which s3cmd reads to sign again.
func TestWrongRegionNamesRegion(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Region = "eu-central-1" })
	for _, path := range []string{"/", "/" + testBucket + "/k"} {
		r, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		r.Header.Set("X-Amz-Content-Sha256", emptyPayload)
		creds := aws.Credentials{AccessKeyID: testAccess, SecretAccessKey: testSecret}
		if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, emptyPayload, "s3", "US", time.Now()); err != nil {
			t.Fatal(err)
		}
		status, doc := doError(t, r)
		if status != http.StatusBadRequest || doc.Code != "AuthorizationHeaderMalformed" || doc.Region != "eu-central-1" {
			t.Errorf("GET %s signed for US: %d %+v, want 400 AuthorizationHeaderMalformed with Region eu-central-1", path, status, doc)
		}
	}
	// Other errors carry no <Region>.
	r, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/"+testBucket+"/k", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=bad")
	if status, doc := doError(t, r); status != http.StatusBadRequest || doc.Region != "" {
		t.Errorf("malformed header: %d %+v, want 400 without Region", status, doc)
	}
}

// Signature Version 2, in the header or presigned, is refused as such, also
// where anonymous reads are allowed.
func TestSigV2Refused(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Anonymous = AnonymousRead })
	e.put(t, "k", "body")
	header, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/"+testBucket+"/k", nil)
	header.Header.Set("Authorization", "AWS "+testAccess+":frJIUN8DYpKDtOLCwo//yllqDzg=")
	header.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	presigned, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/"+testBucket+"/k?AWSAccessKeyId="+testAccess+
		"&Expires=1900000000&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D", nil)
	for name, r := range map[string]*http.Request{"header": header, "presigned": presigned} {
		status, doc := doError(t, r)
		if status != http.StatusBadRequest || doc.Code != "InvalidRequest" || !strings.Contains(doc.Message, "AWS4-HMAC-SHA256") {
			t.Errorf("%s: %d %+v, want 400 InvalidRequest asking for AWS4-HMAC-SHA256", name, status, doc)
		}
	}
}
