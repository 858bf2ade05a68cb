package integration

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestSigtermDrain sends SIGTERM while a slow upload is in flight: the node
// must finish that PUT with 200, then exit 0, and keep the object.
func TestSigtermDrain(t *testing.T) {
	const (
		size  = 32 << 20
		chunk = 1 << 20
	)
	o := newOrigin(t)
	n := o.StartNode(t)
	id := newID()
	body := randomBody(40, size)

	// About one second for the whole body: one chunk per tick.
	src := newThrottledReader(body, chunk, time.Second/(size/chunk), size/4)
	req, err := http.NewRequest(http.MethodPost, n.URL("/api/v1/put"), src)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	for i, hdr := 0, putHeaders(id, 1, "X-Meta-Name", "slow.bin"); i < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	type result struct {
		r   *response
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := n.send(req)
		done <- result{r, err}
	}()

	select {
	case <-src.reached:
	case res := <-done:
		t.Fatalf("PUT ended before a quarter of the body was sent: %v %v", res.r, res.err)
	case <-time.After(30 * time.Second):
		t.Fatal("a quarter of the body was not sent within 30s")
	}
	termAt := time.Now()
	n.Terminate()

	var res result
	select {
	case res = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("in-flight PUT did not finish within 2 minutes of SIGTERM")
	}
	if res.err != nil {
		t.Fatalf("in-flight PUT after SIGTERM: %v", res.err)
	}
	wantStatus(t, res.r, http.StatusOK, "in-flight PUT after SIGTERM")
	if sent := src.sent(); sent != size {
		t.Errorf("PUT answered after %d of %d bytes", sent, size)
	}
	if err := n.Wait(stopTimeout); err != nil {
		t.Fatalf("node after SIGTERM: %v, want exit status 0", err)
	}
	t.Logf("node exited %v after SIGTERM", time.Since(termAt).Round(time.Millisecond))

	n.Restart(t)
	n.MustGet(t, id, body)
}

// throttledReader hands out data one chunk per tick, and closes reached once
// mark bytes have been read.
type throttledReader struct {
	data    []byte
	chunk   int
	tick    *time.Ticker
	mark    int
	reached chan struct{}

	mu        sync.Mutex // guards pos and chunkLeft
	pos       int
	chunkLeft int
}

func newThrottledReader(data []byte, chunk int, every time.Duration, mark int) *throttledReader {
	return &throttledReader{data: data, chunk: chunk, tick: time.NewTicker(every), mark: mark, reached: make(chan struct{})}
}

func (r *throttledReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pos == len(r.data) {
		r.tick.Stop()
		return 0, io.EOF
	}
	if r.chunkLeft == 0 {
		<-r.tick.C
		r.chunkLeft = r.chunk
	}
	n := copy(p, r.data[r.pos:min(len(r.data), r.pos+r.chunkLeft)])
	before := r.pos
	r.pos += n
	r.chunkLeft -= n
	if before < r.mark && r.pos >= r.mark {
		close(r.reached)
	}
	return n, nil
}

// sent is how many bytes have been read.
func (r *throttledReader) sent() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pos
}
