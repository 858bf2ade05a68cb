package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// objectHead is what a client's HEAD reports of an object.
type objectHead struct {
	Size        int64
	ContentType string
	Meta        map[string]string // user metadata; keys in lower case
}

// s3Tool is one S3 client, a program or a library, driven through the
// steps of the common scenario. Each method is one command or call of the
// client's own, as its users would run it.
type s3Tool interface {
	MakeBucket(bucket string) error
	RemoveBucket(bucket string) error
	// Upload stores the file as key, switching to a multipart upload for
	// large files as the client does by default (or with the part size the
	// scenario asks of it).
	Upload(bucket, key, file, contentType string, meta map[string]string) error
	Download(bucket, key, file string) error
	// Range reads bytes first..last (inclusive) with the client's own range
	// option; errNoRange if it has none.
	Range(bucket, key string, first, last int64) ([]byte, error)
	Head(bucket, key string) (objectHead, error)
	// List lists one level: the keys and common prefixes under prefix.
	List(bucket, prefix, delimiter string) (keys, prefixes []string, err error)
	// ListAll lists every key, in pages of 2 where the client can ask so.
	ListAll(bucket string) ([]string, error)
	Copy(bucket, src, dst string) error
	Delete(bucket, key string) error
	// DeleteMany deletes keys, with one DeleteObjects where the client can.
	DeleteMany(bucket string, keys []string) error
	// Presign returns a presigned GET URL valid for a few minutes.
	Presign(bucket, key string) (string, error)
}

// errNoRange says a client has no option to read a byte range.
var errNoRange = errors.New("the client has no byte-range option")

// toolTraits says what a client does on the wire, so that the scenario can
// check, through the recording proxy, that it really happened.
type toolTraits struct {
	// pagedList: ListAll asks for pages of 2 keys.
	pagedList bool
	// batchDelete: DeleteMany sends DeleteObjects.
	batchDelete bool
	// presignV2: Presign makes a Signature Version 2 URL, which objstore
	// must refuse (it verifies Signature Version 4 only).
	presignV2 bool
}

// scenarioFiles are the bodies the scenario uploads, on disk for the CLIs.
type scenarioFiles struct {
	small, large []byte
	smallPath    string
	largePath    string
}

const (
	smallKey = "dir/small.txt"
	largeKey = "dir/large.bin"
	// largeSize passes every client's multipart threshold: aws CLI and
	// boto3 8 MiB, s3cmd 15 MiB, the SDK transfer manager 16 MiB, rclone
	// (told --s3-upload-cutoff 5M) and minio-go (PartSize 5 MiB) 5 MiB.
	largeSize = 20 << 20
	// cliTimeout bounds one command of a CLI client.
	cliTimeout = 90 * time.Second
)

// TestS3APIClients runs the same scenario with six real S3 clients against
// one node backed by versitygw, each in its own bucket created and deleted
// through objstore: small and multipart uploads, downloads, a byte range,
// HEAD with metadata, listings with a delimiter and in pages, server-side
// copies, deletes one by one and in a batch, and a presigned GET.
func TestS3APIClients(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	proxy := startOpProxy(t, n.s3Endpoint())
	dir := t.TempDir()
	files := scenarioFiles{
		small:     randomBody(201, 5<<10),
		large:     randomBody(202, largeSize),
		smallPath: filepath.Join(dir, "small.txt"),
		largePath: filepath.Join(dir, "large.bin"),
	}
	for path, b := range map[string][]byte{files.smallPath: files.small, files.largePath: files.large} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	clients := []struct {
		name   string
		bucket string
		traits toolTraits
		start  func(t *testing.T, ctx context.Context, endpoint string) s3Tool
	}{
		{"aws-cli", "it-aws-cli", toolTraits{pagedList: true, batchDelete: true}, startAWSCLI},
		{"rclone", "it-rclone", toolTraits{pagedList: true}, startRclone},
		{"s3cmd", "it-s3cmd", toolTraits{batchDelete: true, presignV2: true}, startS3cmd},
		{"boto3", "it-boto3", toolTraits{pagedList: true, batchDelete: true}, startBoto3},
		{"minio-go", "it-minio-go", toolTraits{pagedList: true, batchDelete: true}, startMinio},
		{"aws-sdk-go-v2", "it-aws-sdk-go-v2", toolTraits{pagedList: true, batchDelete: true}, startSDK},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			ctx := testCtx(t, 4*time.Minute)
			tool := c.start(t, ctx, proxy.URL)
			sc := &scenario{t: t, ctx: ctx, o: o, n: n, proxy: proxy, tool: tool, traits: c.traits,
				bucket: c.bucket, files: files, direct: sdkClient(n.s3Endpoint())}
			sc.run()
		})
	}
}

// scenario is one client's run of the common steps.
type scenario struct {
	t      *testing.T
	ctx    context.Context
	o      *origin
	n      *Node
	proxy  *opProxy
	tool   s3Tool
	traits toolTraits
	bucket string
	files  scenarioFiles
	// direct is an SDK client of the node (not through the proxy) that
	// checks what the tool did.
	direct *s3.Client
}

func (sc *scenario) run() {
	t := sc.t
	sc.proxy.take()
	sc.must(sc.tool.MakeBucket(sc.bucket), "create bucket")
	if _, err := sc.o.s3.HeadBucket(sc.ctx, &s3.HeadBucketInput{Bucket: aws.String(sc.bucket)}); err != nil {
		t.Fatalf("bucket %s created through objstore is not in the origin: %v", sc.bucket, err)
	}
	sc.uploadAndDownload()
	sc.rangeAndHead()
	sc.listings()
	sc.copies()
	sc.deletes()
	sc.presigned()

	for _, key := range []string{smallKey, largeKey, "top"} {
		sc.must(sc.tool.Delete(sc.bucket, key), "delete "+key)
	}
	sc.must(sc.tool.RemoveBucket(sc.bucket), "delete bucket")
	_, err := sc.o.s3.HeadBucket(sc.ctx, &s3.HeadBucketInput{Bucket: aws.String(sc.bucket)})
	if !isNotFound(err) {
		t.Errorf("bucket %s deleted through objstore: origin HeadBucket = %v, want 404", sc.bucket, err)
	}
}

func (sc *scenario) must(err error, what string) {
	sc.t.Helper()
	if err != nil {
		sc.t.Fatalf("%s: %v", what, err)
	}
}

// uploadAndDownload puts a small object with metadata and a large one that
// must go up in parts, reads both back, and checks the origin's copy.
func (sc *scenario) uploadAndDownload() {
	t, f := sc.t, sc.files
	sc.must(sc.tool.Upload(sc.bucket, smallKey, f.smallPath, "text/plain", map[string]string{"color": "blue"}), "upload small")
	sc.proxy.take()
	sc.must(sc.tool.Upload(sc.bucket, largeKey, f.largePath, "application/octet-stream", nil), "upload large")
	ops := sc.proxy.take()
	path := "/" + sc.bucket + "/" + largeKey
	creates := countOps(ops, func(o s3Op) bool { return o.Method == http.MethodPost && o.Path == path && o.has("uploads") })
	parts := countOps(ops, func(o s3Op) bool { return o.Method == http.MethodPut && o.Path == path && o.has("partNumber") })
	if creates != 1 || parts < 2 {
		t.Errorf("upload of %d MiB: %d CreateMultipartUpload and %d UploadPart, want 1 and at least 2; requests:%s",
			largeSize>>20, creates, parts, describeOps(ops))
	}
	for _, c := range []struct {
		key  string
		want []byte
	}{{smallKey, f.small}, {largeKey, f.large}} {
		out := filepath.Join(t.TempDir(), "download")
		sc.must(sc.tool.Download(sc.bucket, c.key, out), "download "+c.key)
		sc.wantFile(out, c.want, "downloaded "+c.key)
		sc.wantETag(c.key, c.want)
	}
	wantBody(t, sc.o.getKey(t, sc.bucket, largeKey), f.large, "origin's copy of "+largeKey)
}

// rangeAndHead reads a range across the first part boundary and checks
// the small object's size, content type and metadata.
func (sc *scenario) rangeAndHead() {
	t := sc.t
	first, last := int64(5<<20-500), int64(5<<20+499)
	got, err := sc.tool.Range(sc.bucket, largeKey, first, last)
	switch {
	case errors.Is(err, errNoRange):
		t.Logf("range: %v", err)
	case err != nil:
		t.Errorf("range %d-%d: %v", first, last, err)
	default:
		if sum(got) != sum(sc.files.large[first:last+1]) {
			t.Errorf("range %d-%d: %d bytes sha256 %.12s, want %d bytes sha256 %.12s",
				first, last, len(got), sum(got), last-first+1, sum(sc.files.large[first:last+1]))
		}
	}
	h, err := sc.tool.Head(sc.bucket, smallKey)
	sc.must(err, "head "+smallKey)
	if h.Size != int64(len(sc.files.small)) || h.ContentType != "text/plain" {
		t.Errorf("head %s = %+v, want size %d, content type text/plain", smallKey, h, len(sc.files.small))
	}
	if h.Meta["color"] != "blue" {
		t.Errorf("head %s: user metadata %v, want color=blue%s", smallKey, h.Meta, metaCaseDiagnosis(h.Meta, "color"))
	}
}

// metaCaseDiagnosis explains a metadata key that came back in another case.
func metaCaseDiagnosis(meta map[string]string, want string) string {
	for k := range meta {
		if k != want && strings.EqualFold(k, want) {
			return fmt.Sprintf("\nSERVER BUG: the key came back as %q. objstore sends the header as %q (net/http's canonical form, "+
				"from http.Header.Set in internal/s3api/headers.go setObjectHeaders); S3 sends x-amz-meta-%s in lower case, "+
				"and botocore (boto3, aws CLI) takes metadata keys verbatim from the header names", k, "X-Amz-Meta-"+k, want)
		}
	}
	return ""
}

// diagnose lists the requests of a failed step, and names those objstore
// answered 501 NotImplemented.
func diagnose(ops []s3Op) string {
	var b strings.Builder
	for _, o := range ops {
		if o.Status == http.StatusNotImplemented {
			fmt.Fprintf(&b, "\nSERVER GAP: objstore answered 501 NotImplemented to %s %s?%s", o.Method, o.Path, o.Query.Encode())
		}
	}
	return b.String() + "\nrequests:" + describeOps(ops)
}

// listings checks a one-level listing with a delimiter and prefix.
func (sc *scenario) listings() {
	t := sc.t
	for _, key := range []string{"a/1", "a/2", "b/1", "top"} {
		sc.must(sc.tool.Upload(sc.bucket, key, sc.files.smallPath, "text/plain", nil), "upload "+key)
	}
	for _, c := range []struct {
		prefix         string
		keys, prefixes []string
	}{
		{"", []string{"top"}, []string{"a/", "b/", "dir/"}},
		{"a/", []string{"a/1", "a/2"}, nil},
	} {
		keys, prefixes, err := sc.tool.List(sc.bucket, c.prefix, "/")
		sc.must(err, "list "+c.prefix)
		if !slices.Equal(keys, c.keys) || !slices.Equal(prefixes, c.prefixes) {
			t.Errorf("list prefix %q delimiter /: keys %q prefixes %q, want keys %q prefixes %q",
				c.prefix, keys, prefixes, c.keys, c.prefixes)
		}
	}
	sc.listAll([]string{"a/1", "a/2", "b/1", largeKey, smallKey, "top"})
}

// listAll checks that the full listing, paged where the client can, is
// exactly want.
func (sc *scenario) listAll(want []string) {
	t := sc.t
	sc.proxy.take()
	keys, err := sc.tool.ListAll(sc.bucket)
	sc.must(err, "list all")
	if !slices.Equal(keys, want) {
		t.Errorf("list all: %q, want %q", keys, want)
	}
	if !sc.traits.pagedList {
		return
	}
	ops := sc.proxy.take()
	lists := countOps(ops, func(o s3Op) bool {
		return o.Method == http.MethodGet && strings.TrimSuffix(o.Path, "/") == "/"+sc.bucket
	})
	if wantPages := (len(want) + 1) / 2; lists < wantPages {
		t.Errorf("list all of %d keys in pages of 2: %d list requests, want at least %d:%s", len(want), lists, wantPages, describeOps(ops))
	}
}

// copies copies both objects server-side and checks the copies.
func (sc *scenario) copies() {
	t := sc.t
	for _, c := range []struct {
		src, dst string
		body     []byte
	}{{smallKey, "dir/small-copy.txt", sc.files.small}, {largeKey, "dir/large-copy.bin", sc.files.large}} {
		sc.proxy.take()
		if err := sc.tool.Copy(sc.bucket, c.src, c.dst); err != nil {
			t.Errorf("copy %s to %s: %v%s", c.src, c.dst, err, diagnose(sc.proxy.take()))
			continue
		}
		ops := sc.proxy.take()
		if n := countOps(ops, func(o s3Op) bool {
			return o.Method == http.MethodGet && o.Path == "/"+sc.bucket+"/"+c.src && len(o.Query) == 0
		}); n > 0 {
			t.Errorf("copy %s to %s: the client downloaded the source %d times; want a server-side copy:%s", c.src, c.dst, n, describeOps(ops))
		}
		sc.wantETag(c.dst, c.body)
	}
	out, err := sc.direct.HeadObject(sc.ctx, &s3.HeadObjectInput{Bucket: aws.String(sc.bucket), Key: aws.String("dir/small-copy.txt")})
	if err == nil && (aws.ToString(out.ContentType) != "text/plain" || out.Metadata["color"] != "blue") {
		t.Errorf("copy of %s: content type %q metadata %v, want text/plain and color=blue kept", smallKey, aws.ToString(out.ContentType), out.Metadata)
	}
	file := filepath.Join(t.TempDir(), "copy")
	sc.must(sc.tool.Download(sc.bucket, "dir/small-copy.txt", file), "download the copy")
	sc.wantFile(file, sc.files.small, "downloaded copy")
}

// deletes deletes the copies one by one and three keys in one batch.
func (sc *scenario) deletes() {
	t := sc.t
	for _, key := range []string{"dir/small-copy.txt", "dir/large-copy.bin"} {
		sc.must(sc.tool.Delete(sc.bucket, key), "delete "+key)
		_, err := sc.direct.HeadObject(sc.ctx, &s3.HeadObjectInput{Bucket: aws.String(sc.bucket), Key: aws.String(key)})
		if !isNotFound(err) {
			t.Errorf("HEAD %s after delete: %v, want 404", key, err)
		}
	}
	sc.proxy.take()
	batch := []string{"a/1", "a/2", "b/1"}
	sc.must(sc.tool.DeleteMany(sc.bucket, batch), "delete a/1 a/2 b/1")
	ops := sc.proxy.take()
	if sc.traits.batchDelete {
		if n := countOps(ops, func(o s3Op) bool { return o.Method == http.MethodPost && o.has("delete") && o.Status == http.StatusOK }); n == 0 {
			t.Errorf("batch delete: no DeleteObjects request answered 200:%s", describeOps(ops))
		}
	}
	sc.listAll([]string{largeKey, smallKey, "top"})
	for _, key := range batch {
		if _, ok := sc.o.headKey(t, sc.bucket, key); ok {
			t.Errorf("%s deleted through objstore is still in the origin", key)
		}
	}
}

// presigned fetches a presigned URL of the small object with net/http.
func (sc *scenario) presigned() {
	u, err := sc.tool.Presign(sc.bucket, smallKey)
	sc.must(err, "presign")
	if !sc.traits.presignV2 {
		fetchPresigned(sc.ctx, sc.t, u, sc.files.small)
		return
	}
	// A Signature Version 2 URL carries AWSAccessKeyId and Signature, which
	// objstore does not verify: it is refused with a message saying so.
	resp := getURL(sc.ctx, sc.t, u)
	if resp.Status != http.StatusBadRequest || errorCode(resp.Body) != "InvalidRequest" ||
		!strings.Contains(string(resp.Body), "Signature Version 2") {
		sc.t.Errorf("GET of a Signature V2 presigned URL %s: %s, want 400 InvalidRequest saying Signature Version 2 is not supported", u, resp)
	}
}

// wantFile checks that the file holds want.
func (sc *scenario) wantFile(path string, want []byte, what string) {
	sc.t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		sc.t.Errorf("%s: %v", what, err)
		return
	}
	if sum(got) != sum(want) {
		sc.t.Errorf("%s: %d bytes sha256 %.12s, want %d bytes sha256 %.12s", what, len(got), sum(got), len(want), sum(want))
	}
}

// wantETag checks that the node reports the object's ETag as the MD5 of
// want (objstore's ETag is the body's MD5 even after a multipart upload).
func (sc *scenario) wantETag(key string, want []byte) {
	sc.t.Helper()
	out, err := sc.direct.HeadObject(sc.ctx, &s3.HeadObjectInput{Bucket: aws.String(sc.bucket), Key: aws.String(key)})
	if err != nil {
		sc.t.Errorf("HEAD %s: %v", key, err)
		return
	}
	if got := strings.Trim(aws.ToString(out.ETag), `"`); got != md5Hex(want) || aws.ToInt64(out.ContentLength) != int64(len(want)) {
		sc.t.Errorf("HEAD %s: ETag %s size %d, want the MD5 %s of %d bytes", key, got, aws.ToInt64(out.ContentLength), md5Hex(want), len(want))
	}
}

// headKey heads bucket/key in the origin directly.
func (o *origin) headKey(t testing.TB, bucket, key string) (*s3.HeadObjectOutput, bool) {
	t.Helper()
	out, err := o.s3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("origin HeadObject %s/%s: %v", bucket, key, err)
	}
	return out, true
}

// getKey reads bucket/key from the origin directly.
func (o *origin) getKey(t testing.TB, bucket, key string) []byte {
	t.Helper()
	out, err := o.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("origin GetObject %s/%s: %v", bucket, key, err)
	}
	defer func() { _ = out.Body.Close() }() // read-only body, fully read below
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("origin GetObject %s/%s: read: %v", bucket, key, err)
	}
	return b
}
