package s3api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/journal"
	"sphere.software/objstore/internal/localdir"
	"sphere.software/objstore/internal/multipart"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/objstoretest"
	"sphere.software/objstore/internal/sigv4"
)

const (
	testAccess = "AKTEST"
	testSecret = "test-secret-key"
	testBucket = "bkt"
)

// env is an S3 API over a node on real parts in a temp dir, with a local
// directory origin that has the bucket testBucket.
type env struct {
	srv    *httptest.Server
	fast   *fastpath.Server
	node   *node.Node
	origin *localdir.Remote
	api    *Server
	client *awss3.Client
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	return newEnvIn(t, t.TempDir(), mod)
}

// newEnvIn is newEnv with its state, files and origin under dir.
func newEnvIn(t testing.TB, dir string, mod func(*Config)) *env {
	t.Helper()
	return newEnvWith(t, dir, nil, mod)
}

// newEnvWith is newEnvIn with the origin the node sees wrapped by wrap
// (nil: the local directory origin as it is).
func newEnvWith(t testing.TB, dir string, wrap func(node.Remote) node.Remote, mod func(*Config)) *env {
	t.Helper()
	j, err := journal.Open(filepath.Join(dir, "state", "journal.db"), journal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	blobs, err := disk.Open(filepath.Join(dir, "files"), disk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	origin, err := localdir.Open(filepath.Join(dir, "origin"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := origin.CreateBucket(t.Context(), testBucket); err != nil {
		t.Fatal(err)
	}
	var remote node.Remote = origin
	if wrap != nil {
		remote = wrap(origin)
	}
	n, err := node.New(context.Background(), node.Config{NodeID: j.NodeID(), HotCacheBytes: 16 << 20}, j, node.AdaptBlobs(blobs), remote)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	uploads, err := multipart.Open(multipart.Config{Dir: filepath.Join(dir, "files", "uploads"), MinPartSize: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Credentials: []sigv4.Credentials{{AccessKey: testAccess, SecretKey: testSecret}}, DefaultLevel: objstore.LevelS3, NodeID: j.NodeID()}
	if mod != nil {
		mod(&cfg)
	}
	api, err := New(cfg, n, uploads)
	if err != nil {
		t.Fatal(err)
	}
	// Served as objstore serves it: the fast path first, net/http for the
	// rest, so every test here runs through both.
	srv, fast := objstoretest.ServeFast(t, api)
	return &env{srv: srv, fast: fast, node: n, origin: origin, api: api, client: newClient(srv.URL, testAccess, testSecret)}
}

// newClient is an aws-sdk-go-v2 S3 client for the server at url.
func newClient(url, access, secret string) *awss3.Client {
	return awss3.New(awss3.Options{
		BaseEndpoint: aws.String(url),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(access, secret, ""),
		UsePathStyle: true,
	})
}

// sign signs r (with an empty body) with the test credentials.
func (e *env) sign(t *testing.T, r *http.Request) {
	t.Helper()
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	creds := aws.Credentials{AccessKeyID: testAccess, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, emptySHA256, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
}

// nodePut is a native-API style write of body with user meta.
func nodePut(key objstore.Key, body, meta string) node.PutRequest {
	return node.PutRequest{Key: key, Name: "f.txt", UserMeta: json.RawMessage(meta), Level: objstore.LevelS3,
		Size: int64(len(body)), Body: strings.NewReader(body)}
}
