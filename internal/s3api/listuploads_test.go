package s3api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/peerapi"
)

// ListMultipartUploads asks every other alive node; one that is alive but
// does not answer fails the listing with 503, rather than leave its
// uploads out of a list that would look complete.
func TestListUploadsPeerFailing(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.client.CreateMultipartUpload(t.Context(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(testBucket),
		Key: aws.String("mine")}); err != nil {
		t.Fatal(err)
	}
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "disk on fire", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	members := []objstore.Member{{ID: "peer", Addr: broken.Listener.Addr().String(), State: "alive"}}
	e.api.AttachCluster(peerapi.NewForwarder(broken.Client()), func() []objstore.Member { return members })
	list := func() (int, error) {
		out, err := e.client.ListMultipartUploads(t.Context(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)},
			func(o *awss3.Options) { o.RetryMaxAttempts = 1 })
		if err != nil {
			return 0, err
		}
		return len(out.Uploads), nil
	}
	if _, err := list(); apiCode(err) != "ServiceUnavailable" {
		t.Fatalf("listing with an alive peer that fails: %v, want ServiceUnavailable", err)
	}
	members[0].State = "dead" // a node that is down is left out
	if n, err := list(); err != nil || n != 1 {
		t.Fatalf("listing with the peer down: %d uploads, %v; want this node's 1", n, err)
	}
}
