package integration

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestFetchAfterWipe replays the README's "delete local state and restart"
// session: the object comes back from S3 only when X-Meta-Fetch asks for
// it, with its metadata restored, and is then served from the local copy.
func TestFetchAfterWipe(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	id := newID()
	body := []byte("fetched from the origin\n")
	n.MustPut(t, id, 1, body, "X-Meta-Name", "fetch.txt", "X-Meta-UserMeta", `{"owner":"ann","n":3}`)
	before := n.MustGet(t, id, body)

	n.Wipe(t)
	wantStatus(t, n.Get(t, id), http.StatusNotFound, "GET without X-Meta-Fetch on a cold node")

	r := n.MustGet(t, id, body, "X-Meta-Fetch", "1")
	wantHeader(t, r, "X-Meta-Fetched", "true", "GET with X-Meta-Fetch")
	for _, k := range []string{"X-Meta-Name", "X-Meta-Consistencylevel", "Content-Type", "Content-Length", "X-Meta-Id"} {
		wantHeader(t, r, k, before.Header.Get(k), "GET with X-Meta-Fetch")
	}
	m := n.Meta(t, id)
	wantUserMeta(t, m, map[string]any{"owner": "ann", "n": 3.0})
	if m.FileName != "fetch.txt" || m.Consistency != 1 || m.FileSize != int64(len(body)) {
		t.Errorf("meta after fetch = %+v, want name fetch.txt, consistency 1, size %d", m, len(body))
	}

	gets := o.Count(http.MethodGet, o.Bucket)
	local := n.MustGet(t, id, body)
	if v := local.Header.Get("X-Meta-Fetched"); v != "" {
		t.Errorf("second GET: X-Meta-Fetched = %q, want it served from the local copy", v)
	}
	if after := o.Count(http.MethodGet, o.Bucket); after != gets {
		t.Errorf("second GET made %d S3 GET requests, want 0", after-gets)
	}
}

// TestFetchStampede sends many concurrent fetching GETs for one cold object:
// they must all get the whole body from a single S3 request.
func TestFetchStampede(t *testing.T) {
	const readers = 50
	o := newOrigin(t)
	n := o.StartNode(t)
	id := newID()
	body := randomBody(30, 16<<20)
	want := sum(body)
	n.MustPut(t, id, 1, body, "X-Meta-Name", "big.bin")
	n.Wipe(t)
	o.ResetCounts()

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan string, readers)
	for range readers {
		wg.Go(func() {
			status, sha, size, err := n.sumGet("/api/v1/get/"+id, "X-Meta-Fetch", "1")
			switch {
			case err != nil:
				errs <- err.Error()
			case status != http.StatusOK:
				errs <- fmt.Sprintf("GET: status %d", status)
			case sha != want:
				errs <- fmt.Sprintf("GET: body of %d bytes with sha256 %.12s, want %d bytes, %.12s", size, sha, len(body), want)
			}
		})
	}
	wg.Wait()
	t.Logf("%d concurrent GETs of a cold %d MiB object took %v", readers, len(body)>>20, time.Since(start).Round(time.Millisecond))
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := o.Count(http.MethodGet, o.Bucket); got != 1 {
		t.Errorf("%d concurrent fetching GETs made %d S3 GET requests, want 1", readers, got)
	}
	n.MustGet(t, id, body)
	if got := o.Count(http.MethodGet, o.Bucket); got != 1 {
		t.Errorf("GET after the fetch made %d more S3 GET requests, want 0", got-1)
	}
}
