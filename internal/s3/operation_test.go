package s3_test

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/objstoretest"
	"sphere.software/objstore/internal/s3"
)

// opLog is an HTTP client wrapper that notes each request's operation.
type opLog struct {
	next s3.HTTPClient
	mu   sync.Mutex // guards ops
	ops  []string
}

func (l *opLog) Do(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.ops = append(l.ops, s3.Operation(r))
	l.mu.Unlock()
	return l.next.Do(r)
}

func TestWrapHTTPSeesEveryRequestWithItsOperation(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "ops")
	log := &opLog{}
	r, err := s3.New(t.Context(), s3.Config{Bucket: "ops", Endpoint: srv.Endpoint, PathStyle: true, Logger: objstoretest.Logger(t),
		WrapHTTP: func(c s3.HTTPClient) s3.HTTPClient { log.next = c; return log }})
	if err != nil {
		t.Fatal(err)
	}
	key, body := objstore.Key{Bucket: "ops", ID: "k"}, []byte("hello")
	rec := objstore.Record{Key: key, Sum: objstore.Checksum{Size: int64(len(body))}}
	if err := r.Put(t.Context(), rec, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	rc, _, err := r.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
	if _, err := r.Stat(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"PutObject", "GetObject", "HeadObject", "DeleteObject"} {
		if !slices.Contains(log.ops, op) {
			t.Errorf("no %s among the requests seen: %v", op, log.ops)
		}
	}
	if slices.Contains(log.ops, "other") {
		t.Errorf("a request the SDK sent has no operation: %v", log.ops)
	}
}
