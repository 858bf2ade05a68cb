package s3_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/deadline"
	"sphere.software/objstore/internal/s3"
)

// An origin that stops answering fails a request after the bound, with
// ErrTimeout, in one attempt; a body that stops mid-way fails its read.
func TestDeadlines(t *testing.T) {
	const bound = 300 * time.Millisecond
	var requests atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("part of the body")) // the client sees the failure, not us
			w.(http.Flusher).Flush()
		}
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: srv.Close waits for the handlers
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "stalled", "AWS_SECRET_ACCESS_KEY": "stalled", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "",
	} {
		t.Setenv(k, v)
	}
	r, err := s3.New(t.Context(), s3.Config{Bucket: "stalled", Endpoint: srv.URL, PathStyle: true,
		Deadlines: deadline.Config{FirstByte: bound, Progress: bound}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	key := objstore.Key{Bucket: "stalled", ID: "k"}
	rec := objstore.Record{Key: key, Sum: objstore.Checksum{Size: 5}}

	start := time.Now()
	err = r.Put(t.Context(), rec, bytes.NewReader([]byte("hello")))
	took := time.Since(start)
	if !errors.Is(err, objstore.ErrTimeout) || !errors.Is(err, objstore.ErrNoRemote) {
		t.Fatalf("Put to a silent origin: %v, want ErrTimeout and ErrNoRemote", err)
	}
	if took > 3*bound || requests.Load() != 1 {
		t.Fatalf("Put failed after %v and %d requests, want within %v and 1 request (no retry)", took, requests.Load(), 3*bound)
	}

	body, _, err := r.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer body.Close()
	start = time.Now()
	_, err = io.ReadAll(body)
	if !deadline.IsTimeout(err) || time.Since(start) > 3*bound {
		t.Fatalf("read of a stalled body: %v after %v, want a timeout within %v", err, time.Since(start), 3*bound)
	}
}
