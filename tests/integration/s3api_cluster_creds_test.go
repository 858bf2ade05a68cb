package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// noConfiguredKeys empties --s3-api-credentials: given after Node.Args'
// test key (the last flag wins), it leaves the node with no configured
// keys, so that it uses its cluster's generated ones.
const noConfiguredKeys = "--s3-api-credentials="

// keyWait bounds how long a node may take to learn its cluster's key.
const keyWait = 15 * time.Second

// generatedKey is the generated pair in n's state dir, as a user reads it.
type generatedKey struct{ access, secret string }

// readGeneratedKeys reads n's state/s3-credentials.
func readGeneratedKeys(n *Node) ([]generatedKey, error) {
	b, err := os.ReadFile(filepath.Join(n.StateDir, "s3-credentials"))
	if err != nil {
		return nil, err
	}
	var keys []generatedKey
	for line := range strings.SplitSeq(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(line, "#") {
			keys = append(keys, generatedKey{f[0], f[1]})
		}
	}
	return keys, nil
}

// s3With is an SDK client for n's S3 API signed with key.
func s3With(n *Node, key generatedKey) *awss3.Client {
	return awss3.New(awss3.Options{
		BaseEndpoint: aws.String("http://" + n.S3Addr),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(key.access, key.secret, ""),
		UsePathStyle: true,
	})
}

func putObject(ctx context.Context, c *awss3.Client, bucket, key string, body []byte) error {
	_, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	return err
}

func getObject(ctx context.Context, c *awss3.Client, bucket, key string, want []byte) error {
	out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	defer func() { _ = out.Body.Close() }() // read to the end below
	got, err := io.ReadAll(out.Body)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("GET %s: %q, want %q", key, got, want)
	}
	return nil
}

// TestS3APIClusterGeneratedKey: the key node 1 generated signs requests to
// every node: node 2 that joined it, node 3 that joined later through
// node 2, and node 2 again after a restart, with nothing configured. A node
// with another cluster key gets nothing.
func TestS3APIClusterGeneratedKey(t *testing.T) {
	c := newCluster(t, ClusterOpts{Args: []string{noConfiguredKeys}})
	n1 := c.Add(t, "")
	keys, err := readGeneratedKeys(n1)
	if err != nil || len(keys) != 1 {
		t.Fatalf("node 1's generated keys: %v %v", keys, err)
	}
	key := keys[0]
	ctx := t.Context()
	bucket := c.Origin.Bucket
	if err := putObject(ctx, s3With(n1, key), bucket, "from-1", []byte("one")); err != nil {
		t.Fatalf("PUT on node 1: %v", err)
	}

	n2 := c.Add(t, n1.PrivateAddr)
	WaitMembers(t, c.Nodes, 2)
	eventually(t, keyWait, "GET on node 2 with node 1's key", func() error {
		return getObject(ctx, s3With(n2, key), bucket, "from-1", []byte("one"))
	})
	if err := putObject(ctx, s3With(n2, key), bucket, "from-2", []byte("two")); err != nil {
		t.Fatalf("PUT on node 2: %v", err)
	}

	n3 := c.Add(t, n2.PrivateAddr)
	WaitMembers(t, c.Nodes, 3)
	eventually(t, keyWait, "PUT on node 3 with node 1's key", func() error {
		return putObject(ctx, s3With(n3, key), bucket, "from-3", []byte("three"))
	})
	for _, id := range []string{"from-1", "from-2"} {
		eventually(t, keyWait, "GET "+id+" on node 3", func() error {
			return getObject(ctx, s3With(n3, key), bucket, id, []byte(map[string]string{"from-1": "one", "from-2": "two"}[id]))
		})
	}
	for i, n := range c.Nodes {
		got, err := readGeneratedKeys(n)
		if err != nil || !slices.Equal(got, []generatedKey{key}) {
			t.Fatalf("node %d's state/s3-credentials: %v %v; want node 1's key alone", i+1, got, err)
		}
	}

	// The key is stored: a restarted node accepts it at once.
	n2.Restart(t)
	if err := putObject(ctx, s3With(n2, key), bucket, "after-restart", []byte("again")); err != nil {
		t.Fatalf("PUT on node 2 after its restart: %v", err)
	}

	// A node with another cluster key is refused by the cluster: it learns
	// nothing, generates its own key, and refuses the cluster's.
	args := []string{"--cluster-key", "not-" + testClusterKey, "--tag", testClusterTag, "--sync-interval", testSyncInterval,
		"-N", n1.PrivateAddr, noConfiguredKeys}
	stranger := StartNode(t, NodeOpts{S3: c.Origin.S3Server, Bucket: bucket, IP: c.NextIP(), Args: args})
	var own []generatedKey
	eventually(t, keyWait, "the stranger generates its own key", func() error {
		own, err = readGeneratedKeys(stranger)
		return err
	})
	if slices.Contains(own, key) || len(own) != 1 {
		t.Fatalf("the stranger's keys: %v; want one of its own, not the cluster's %v", own, key)
	}
	err = putObject(ctx, s3With(stranger, key), bucket, "stranger", []byte("no"))
	if code := s3Code(err); code != "InvalidAccessKeyId" {
		t.Fatalf("PUT on the stranger with the cluster's key: %v (code %q), want InvalidAccessKeyId", err, code)
	}
	if err := putObject(ctx, s3With(stranger, own[0]), bucket, "stranger", []byte("yes")); err != nil {
		t.Fatalf("PUT on the stranger with its own key: %v", err)
	}
	if strings.Contains(stranger.log.String(), key.secret) || strings.Contains(n1.log.String(), key.secret) {
		t.Fatal("a secret key appears in a node's log")
	}
}
