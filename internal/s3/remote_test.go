package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/objstoretest"
	"sphere.software/objstore/internal/remotetest"
	"sphere.software/objstore/internal/s3"
)

var (
	_ node.Remote            = (*s3.Remote)(nil)
	_ node.ConditionalRemote = (*s3.Remote)(nil)
)

// foreign adds remotetest.ForeignWriter to a Remote: it writes through the
// server directly, with no objstore metadata.
type foreign struct {
	*s3.Remote
	client *awss3.Client
}

func (f foreign) WriteForeign(ctx context.Context, key objstore.Key, body []byte, contentType string) error {
	_, err := f.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:      aws.String(key.Bucket),
		Key:         aws.String(key.ID),
		Body:        bytes.NewReader(body),
		ContentType: aws.String(contentType),
	})
	return err
}

// newRemote returns a Remote on srv with a 5 MiB part size.
func newRemote(t testing.TB, srv *objstoretest.S3Server, bucket string) *s3.Remote {
	t.Helper()
	r, err := s3.New(t.Context(), s3.Config{
		Bucket:    bucket,
		Endpoint:  srv.Endpoint,
		PathStyle: true,
		Logger:    objstoretest.Logger(t),
		PartSize:  s3.MinPartSize,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func TestRemote(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	var n atomic.Int64
	remotetest.Run(t, func(t *testing.T) (remotetest.Remote, string) {
		bucket := fmt.Sprintf("contract-%d", n.Add(1))
		srv.CreateBucket(t, bucket)
		return foreign{newRemote(t, srv, bucket), srv.Client(t)}, bucket
	})
}

func TestCheck(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "present")
	if err := newRemote(t, srv, "present").Check(t.Context()); err != nil {
		t.Errorf("Check of an existing bucket: %v", err)
	}
	err := newRemote(t, srv, "absent").Check(t.Context())
	if err == nil {
		t.Error("Check of a missing bucket: no error")
	}
}

func TestCreateBucket(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	r := newRemote(t, srv, "made")
	for range 2 {
		if err := r.CreateBucket(t.Context(), "made"); err != nil {
			t.Fatalf("CreateBucket: %v", err)
		}
	}
	if err := r.Check(t.Context()); err != nil {
		t.Errorf("Check after CreateBucket: %v", err)
	}
}

func TestUnavailable(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	// Nothing listens on a fresh free port.
	r, err := s3.New(t.Context(), s3.Config{Bucket: "b", Endpoint: "http://" + objstoretest.FreeAddr(t), PathStyle: true})
	if err != nil {
		t.Fatalf("New must not connect: %v", err)
	}
	key := objstore.Key{Bucket: "b", ID: "k"}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // also stops the SDK's retries
	checks := map[string]error{
		"Check":  r.Check(t.Context()),
		"Stat":   func() error { _, err := r.Stat(t.Context(), key); return err }(),
		"Delete": r.Delete(t.Context(), key),
		"Put":    r.Put(t.Context(), remotetest.Record(key, []byte("x"), 1, objstore.LevelS3, ""), bytes.NewReader([]byte("x"))),
		"Get":    func() error { _, _, err := r.Get(ctx, key); return err }(),
	}
	for op, err := range checks {
		var s3err *s3.Error
		if !errors.Is(err, objstore.ErrNoRemote) || errors.Is(err, objstore.ErrNotFound) || !errors.As(err, &s3err) {
			t.Errorf("%s: %v, want *s3.Error wrapping ErrNoRemote only", op, err)
		}
	}
}

func TestAccessDenied(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "locked")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	r := newRemote(t, srv, "locked")
	_, err := r.Stat(t.Context(), objstore.Key{Bucket: "locked", ID: "k"})
	if !errors.Is(err, objstore.ErrNoRemote) {
		t.Errorf("Stat with a wrong secret: %v, want ErrNoRemote", err)
	}
}

// TestMultipartAborted checks that a failed multipart upload leaves no
// upload behind.
func TestMultipartAborted(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "abort")
	r := newRemote(t, srv, "abort")
	body := remotetest.Body(1, remotetest.LargeSize)
	rec := remotetest.Record(objstore.Key{Bucket: "abort", ID: "big"}, body, 1<<16, objstore.LevelS3, "")
	err := r.Put(t.Context(), rec, failingReader{bytes.NewReader(body), int64(len(body) / 2)})
	if !errors.Is(err, errBroken) || !errors.Is(err, objstore.ErrNoRemote) {
		t.Fatalf("Put with a failing body: %v", err)
	}
	out, err := srv.Client(t).ListMultipartUploads(t.Context(), &awss3.ListMultipartUploadsInput{Bucket: aws.String("abort")})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	if len(out.Uploads) != 0 {
		t.Errorf("%d multipart uploads left behind", len(out.Uploads))
	}
	if srv.Count(http.MethodDelete, "abort") != 1 {
		t.Errorf("AbortMultipartUpload sent %d times, want 1", srv.Count(http.MethodDelete, "abort"))
	}
}

var errBroken = errors.New("broken disk")

// failingReader fails reads past an offset.
type failingReader struct {
	r  *bytes.Reader
	at int64
}

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.at {
		return 0, errBroken
	}
	return f.r.ReadAt(p, off)
}

// TestTags checks that user metadata within S3's tag limits becomes tags.
func TestTags(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "tags")
	r := newRemote(t, srv, "tags")
	for _, tt := range []struct {
		name string
		size int
		meta string
		want map[string]string
	}{
		{"single", 10, `{"team":"ops","n":7,"path":"a/b c+d@e"}`, map[string]string{"team": "ops", "n": "7", "path": "a/b c+d@e"}},
		{"multipart", remotetest.LargeSize, `{"team":"ops"}`, map[string]string{"team": "ops"}},
		{"unfit", 10, `{"bad":"semi;colon"}`, map[string]string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := remotetest.Body(2, tt.size)
			rec := remotetest.Record(objstore.Key{Bucket: "tags", ID: tt.name}, body, 1<<16, objstore.LevelS3, "")
			rec.UserMeta = []byte(tt.meta)
			if err := r.Put(t.Context(), rec, bytes.NewReader(body)); err != nil {
				t.Fatalf("Put: %v", err)
			}
			out, err := srv.Client(t).GetObjectTagging(t.Context(), &awss3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String(tt.name)})
			if err != nil {
				t.Fatalf("GetObjectTagging: %v", err)
			}
			got := map[string]string{}
			for _, tag := range out.TagSet {
				got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("tags %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUploadRequests checks which requests a Put sends: one PUT up to the
// part size, a multipart upload of three parts above it.
func TestUploadRequests(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "reqs")
	r := newRemote(t, srv, "reqs")
	for _, tt := range []struct {
		size       int
		puts, post int
	}{
		{s3.MinPartSize, 1, 0},
		{s3.MinPartSize + 1, 2, 2}, // create + complete, two parts
		{remotetest.LargeSize, 3, 2},
	} {
		srv.ResetCounts()
		body := remotetest.Body(3, tt.size)
		rec := remotetest.Record(objstore.Key{Bucket: "reqs", ID: fmt.Sprint(tt.size)}, body, 1<<16, objstore.LevelS3, "")
		if err := r.Put(t.Context(), rec, bytes.NewReader(body)); err != nil {
			t.Fatalf("Put %d bytes: %v", tt.size, err)
		}
		if got := srv.Count(http.MethodPut, "reqs"); got != tt.puts {
			t.Errorf("Put %d bytes: %d PUT requests, want %d", tt.size, got, tt.puts)
		}
		if got := srv.Count(http.MethodPost, "reqs"); got != tt.post {
			t.Errorf("Put %d bytes: %d POST requests, want %d", tt.size, got, tt.post)
		}
	}
}

// TestContentMD5 checks that S3 refuses a body that does not match the
// record's MD5.
func TestContentMD5(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "md5")
	r := newRemote(t, srv, "md5")
	key := objstore.Key{Bucket: "md5", ID: "k"}
	rec := remotetest.Record(key, []byte("expected"), 1<<16, objstore.LevelS3, "")
	err := r.Put(t.Context(), rec, bytes.NewReader([]byte("tampered")))
	if err == nil {
		t.Fatal("Put of a body that does not match its MD5: no error")
	}
	if _, err := r.Stat(t.Context(), key); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Stat after a refused Put: %v", err)
	}
}

// TestForeignMD5 checks that a foreign single-part object's ETag gives its MD5.
func TestForeignMD5(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "foreign")
	r := newRemote(t, srv, "foreign")
	key := objstore.Key{Bucket: "foreign", ID: "dropped/by/hand.txt"}
	body := []byte("written by another tool")
	if err := (foreign{r, srv.Client(t)}).WriteForeign(t.Context(), key, body, "text/plain"); err != nil {
		t.Fatal(err)
	}
	rec, err := r.Stat(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	want := remotetest.Record(key, body, 0, objstore.LevelS3, "text/plain")
	if rec.Sum.MD5 != want.Sum.MD5 || rec.Sum.CRC32C != 0 || rec.Name != "hand.txt" || !rec.Version.IsForeign() {
		t.Errorf("Stat of a foreign object: %+v", rec)
	}
}
