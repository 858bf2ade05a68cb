package peerapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"sphere.software/objstore/internal/deadline"
)

// A peer that stops answering, before its headers or in its body, fails
// the request after the bound instead of holding it.
func TestHTTPClientDeadlines(t *testing.T) {
	const bound = 200 * time.Millisecond
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("start")) // the client sees the failure, not us
			w.(http.Flusher).Flush()
		}
		<-release
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handlers
	hc := NewHTTPClient(HTTPConfig{Deadlines: deadline.Config{FirstByte: bound, Progress: bound}})
	defer hc.CloseIdleConnections()

	start := time.Now()
	_, err := hc.Get(srv.URL + "/headers")
	if !deadline.IsTimeout(err) || time.Since(start) > 5*bound {
		t.Fatalf("no headers: err %v after %v, want a timeout after about %v", err, time.Since(start), bound)
	}

	resp, err := hc.Get(srv.URL + "/body")
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	defer resp.Body.Close()
	start = time.Now()
	_, err = io.ReadAll(resp.Body)
	if !deadline.IsTimeout(err) || time.Since(start) > 5*bound {
		t.Fatalf("stalled body: err %v after %v, want a timeout after about %v", err, time.Since(start), bound)
	}
}
