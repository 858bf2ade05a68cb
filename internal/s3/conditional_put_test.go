package s3_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/objstoretest"
	"sphere.software/objstore/internal/remotetest"
	"sphere.software/objstore/internal/s3"
)

// TestPutIf runs conditional uploads against versitygw, single-part and
// multipart (the condition rides on CompleteMultipartUpload): each lands
// only on the object it names, and a refusal wraps
// objstore.ErrOriginChanged and leaves the object as it was.
func TestPutIf(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "cond")
	r := newRemote(t, srv, "cond")
	for _, tt := range []struct {
		name string
		size int
	}{{"single", 1 << 10}, {"multipart", int(s3.MinPartSize) + 1<<10}} {
		t.Run(tt.name, func(t *testing.T) {
			key := objstore.Key{Bucket: "cond", ID: tt.name}
			put := func(fill byte, etag string) (objstore.Record, error) {
				body := bytes.Repeat([]byte{fill}, tt.size)
				rec := remotetest.Record(key, body, uint64(fill), objstore.LevelS3, "")
				return rec, r.PutIf(t.Context(), rec, bytes.NewReader(body), etag)
			}
			first, err := put('a', "")
			if err != nil {
				t.Fatalf("PutIf with If-None-Match on no object: %v", err)
			}
			if _, err := put('b', ""); !errors.Is(err, objstore.ErrOriginChanged) {
				t.Fatalf("PutIf with If-None-Match on an object: %v, want ErrOriginChanged", err)
			}
			_, etag, err := r.StatETag(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := put('c', `"00000000000000000000000000000000"`); !errors.Is(err, objstore.ErrOriginChanged) {
				t.Fatalf("PutIf with a wrong If-Match: %v, want ErrOriginChanged", err)
			}
			if got, err := r.Stat(t.Context(), key); err != nil || got.Version != first.Version {
				t.Fatalf("after refused PutIfs the origin holds %v (%v), want %v", got.Version, err, first.Version)
			}
			second, err := put('d', etag)
			if err != nil {
				t.Fatalf("PutIf with the object's ETag: %v", err)
			}
			if got, err := r.Stat(t.Context(), key); err != nil || got.Version != second.Version {
				t.Fatalf("after PutIf the origin holds %v (%v), want %v", got.Version, err, second.Version)
			}
		})
	}
}

// notImplementedOrigin is an S3 server that answers 501 NotImplemented to
// the requests refuses picks and 200 to the others, and a Remote of it.
func notImplementedOrigin(t *testing.T, refuses func(*http.Request) bool) *s3.Remote {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // drained so the client sees the answer
		if refuses(r) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotImplemented)
			_, _ = io.WriteString(w, `<Error><Code>NotImplemented</Code><Message>not here</Message></Error>`)
			return
		}
		w.Header().Set("ETag", `"x"`)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	r, err := s3.New(t.Context(), s3.Config{Bucket: "b", Endpoint: srv.URL, Region: "us-east-1", PathStyle: true,
		Logger: objstoretest.Logger(t), PartSize: s3.MinPartSize})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPutIfNotImplemented checks that an origin answering 501 to
// conditional uploads gets the upload without conditions, then and after.
func TestPutIfNotImplemented(t *testing.T) {
	var conditional, plain atomic.Int64
	r := notImplementedOrigin(t, func(r *http.Request) bool {
		if r.Header.Get("If-Match") != "" || r.Header.Get("If-None-Match") != "" {
			conditional.Add(1)
			return true
		}
		plain.Add(1)
		return false
	})
	body := []byte("body")
	rec := remotetest.Record(objstore.Key{Bucket: "b", ID: "k"}, body, 1, objstore.LevelS3, "")
	for range 2 {
		if err := r.PutIf(t.Context(), rec, bytes.NewReader(body), ""); err != nil {
			t.Fatalf("PutIf on an origin without conditional writes: %v", err)
		}
	}
	if conditional.Load() == 0 || plain.Load() != 2 {
		t.Errorf("%d conditional and %d plain uploads, want some and 2", conditional.Load(), plain.Load())
	}
}

// TestPutStreamNotImplemented: an origin that answers 501 to a streamed
// upload (aws-chunked) may lack the framing, not the conditions: the
// streamed upload fails, and whole-body uploads after it are still
// conditional.
func TestPutStreamNotImplemented(t *testing.T) {
	var streamed, conditional atomic.Int64
	r := notImplementedOrigin(t, func(r *http.Request) bool {
		if strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
			streamed.Add(1)
			return true
		}
		if r.Header.Get("If-None-Match") == "*" {
			conditional.Add(1)
		}
		return false
	})
	body := []byte("body")
	rec := remotetest.Record(objstore.Key{Bucket: "b", ID: "k"}, body, 1, objstore.LevelS3, "")
	streamRec := rec
	streamRec.Sum = objstore.Checksum{Size: rec.Sum.Size}
	if _, err := r.PutStream(t.Context(), streamRec, bytes.NewReader(body), ""); err == nil || streamed.Load() != 1 {
		t.Fatalf("PutStream on an origin without aws-chunked: %v after %d streamed uploads, want a failure", err, streamed.Load())
	}
	if err := r.PutIf(t.Context(), rec, bytes.NewReader(body), ""); err != nil {
		t.Fatalf("PutIf after the refused stream: %v", err)
	}
	if conditional.Load() != 1 {
		t.Errorf("PutIf after the refused stream sent %d conditional uploads, want 1 (If-None-Match: *)", conditional.Load())
	}
}
