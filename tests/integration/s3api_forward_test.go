package integration

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// nodeS3 is an SDK client for a node's S3 API.
func nodeS3(n *Node) *awss3.Client {
	return awss3.New(awss3.Options{
		BaseEndpoint: aws.String("http://" + n.S3Addr),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(TestAccessKey, TestSecretKey, ""),
		UsePathStyle: true,
		// The SDK's default CRC32 over aws-chunked with trailers is what
		// modern SDKs send: keep it, so forwarding streams such bodies too.
	})
}

func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestS3APIMultipartAcrossNodes: an upload's parts are staged on the node
// that created it, and every node forwards that upload's requests there, so
// a client behind a load balancer can send each request to any node.
func TestS3APIMultipartAcrossNodes(t *testing.T) {
	c := StartCluster(t, 3, ClusterOpts{})
	a, b, z := nodeS3(c.Nodes[0]), nodeS3(c.Nodes[1]), nodeS3(c.Nodes[2])
	ctx := t.Context()
	bucket := aws.String(c.Origin.Bucket)
	key := aws.String("spread/over/nodes.bin")

	created, err := a.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: bucket, Key: key,
		Metadata: map[string]string{"origin": "a"}})
	if err != nil {
		t.Fatalf("CreateMultipartUpload on A: %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	parts := make([][]byte, 3)
	for i := range parts {
		size := 5 << 20
		if i == len(parts)-1 {
			size = 123457
		}
		parts[i] = make([]byte, size)
		for j := range parts[i] {
			parts[i][j] = byte(rng.Uint32())
		}
	}
	clients := []*awss3.Client{b, z, a} // part 1 through B, 2 through C, 3 through A
	var done []types.CompletedPart
	for i, p := range parts {
		out, err := clients[i].UploadPart(ctx, &awss3.UploadPartInput{Bucket: bucket, Key: key, UploadId: created.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatalf("UploadPart %d through node %d: %v", i+1, (i+1)%3+1, err)
		}
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}
	lp, err := z.ListParts(ctx, &awss3.ListPartsInput{Bucket: bucket, Key: key, UploadId: created.UploadId})
	if err != nil || len(lp.Parts) != 3 {
		t.Fatalf("ListParts through C: %v, %d parts", err, len(lp.Parts))
	}
	if _, err := b.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatalf("CompleteMultipartUpload through B: %v", err)
	}
	want := sha256.Sum256(bytes.Join(parts, nil))
	for i, cl := range []*awss3.Client{a, b, z} {
		out, err := cl.GetObject(ctx, &awss3.GetObjectInput{Bucket: bucket, Key: key})
		if err != nil {
			t.Fatalf("GetObject through node %d: %v", i+1, err)
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || sha256.Sum256(got) != want || out.Metadata["origin"] != "a" {
			t.Fatalf("GetObject through node %d: %d bytes (%v), meta %v", i+1, len(got), err, out.Metadata)
		}
	}

	// Abort through another node; the owner then knows the upload no more.
	second, err := z.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: bucket, Key: key, UploadId: second.UploadId}); err != nil {
		t.Fatalf("AbortMultipartUpload through A of C's upload: %v", err)
	}
	_, err = z.UploadPart(ctx, &awss3.UploadPartInput{Bucket: bucket, Key: key, UploadId: second.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("late")})
	if s3Code(err) != "NoSuchUpload" {
		t.Fatalf("UploadPart after abort: %v, want NoSuchUpload", err)
	}

	// Every node lists every node's uploads, in S3's order, page by page.
	listed := listUploadsAcross(t, c)

	// With the owner down, its uploads are unavailable, not missing.
	third, err := z.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	c.Nodes[2].Kill()
	eventually(t, readyTimeout, "node C seen as down", func() error {
		_, err := a.UploadPart(ctx, &awss3.UploadPartInput{Bucket: bucket, Key: key, UploadId: third.UploadId,
			PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
		if s3Code(err) != "ServiceUnavailable" {
			return errors.New("UploadPart of a down node's upload: " + s3Code(err))
		}
		return nil
	})
	// The listing goes on without the node that is down.
	eventually(t, readyTimeout, "uploads listed without node C", func() error {
		out, err := a.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: bucket, Prefix: aws.String("list/")})
		if err != nil {
			return err
		}
		if len(out.Uploads) != len(listed)-2 {
			return fmt.Errorf("%d uploads listed, want %d (C's two left out)", len(out.Uploads), len(listed)-2)
		}
		return nil
	})
	// A made-up upload of a made-up node is simply unknown.
	_, err = a.UploadPart(ctx, &awss3.UploadPartInput{Bucket: bucket, Key: key, UploadId: aws.String("NOSUCHNODE-00"),
		PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	if code := s3Code(err); code != "NoSuchUpload" {
		t.Fatalf("an unknown node's upload: %v", err)
	}
}

// listUploadsAcross starts uploads on every node of c (two on the last) and
// checks that ListMultipartUploads through any node lists all of them,
// sorted by key, whole and one per page. It returns the upload IDs.
func listUploadsAcross(t *testing.T, c *Cluster) []string {
	t.Helper()
	ctx := t.Context()
	bucket := aws.String(c.Origin.Bucket)
	var want []string // "key upload-id", in key order
	for i, n := range c.Nodes {
		for j := range 1 + i/2 {
			key := fmt.Sprintf("list/%c%d", 'a'+i, j)
			out, err := nodeS3(n).CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String(key)})
			if err != nil {
				t.Fatalf("CreateMultipartUpload of %s on node %d: %v", key, i+1, err)
			}
			want = append(want, key+" "+aws.ToString(out.UploadId))
		}
	}
	for i, n := range c.Nodes {
		cl := nodeS3(n)
		out, err := cl.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: bucket, Prefix: aws.String("list/")})
		if err != nil {
			t.Fatalf("ListMultipartUploads through node %d: %v", i+1, err)
		}
		if got := uploadLines(out.Uploads); !slices.Equal(got, want) || aws.ToBool(out.IsTruncated) {
			t.Fatalf("ListMultipartUploads through node %d: %v (truncated %v), want %v", i+1, got, aws.ToBool(out.IsTruncated), want)
		}
		var paged []string
		in := &awss3.ListMultipartUploadsInput{Bucket: bucket, Prefix: aws.String("list/"), MaxUploads: aws.Int32(1)}
		for range len(want) + 1 {
			page, err := cl.ListMultipartUploads(ctx, in)
			if err != nil {
				t.Fatalf("ListMultipartUploads page through node %d: %v", i+1, err)
			}
			paged = append(paged, uploadLines(page.Uploads)...)
			if !aws.ToBool(page.IsTruncated) {
				break
			}
			in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("ListMultipartUploads one per page through node %d: %v, want %v", i+1, paged, want)
		}
	}
	return want
}

func uploadLines(uploads []types.MultipartUpload) []string {
	var lines []string
	for _, u := range uploads {
		lines = append(lines, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return lines
}
