package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// eventRelay stands between versitygw's event webhook and a node. versitygw
// sends a test event when it starts and refuses to start if the webhook
// URL refuses connections, but the nodes start after their origin: the
// relay listens first, answers 200 to whatever comes before it has a
// target, then forwards every event to the target and keeps the keys and
// the target's answers, so a test knows an event went through.
type eventRelay struct {
	srv    *httptest.Server
	client *http.Client

	mu       sync.Mutex // guards target and got
	target   string
	got      map[string][]int // key -> the target's status for each event naming it
	received chan struct{}    // closed and replaced on each forwarded event
}

func newEventRelay(t testing.TB) *eventRelay {
	t.Helper()
	r := &eventRelay{client: &http.Client{Timeout: 10 * time.Second}, got: map[string][]int{}, received: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.srv.Close()
		r.client.CloseIdleConnections()
	})
	return r
}

// URL is what versitygw's --event-webhook-url is set to.
func (r *eventRelay) URL() string { return r.srv.URL }

// forwardTo sets where events go from now on.
func (r *eventRelay) forwardTo(url string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.target = url
}

func (r *eventRelay) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	target := r.target
	r.mu.Unlock()
	if target == "" {
		return // 200: versitygw's start-up test event
	}
	status := r.forward(req, target, body)
	r.mu.Lock()
	for _, k := range eventObjectKeys(body) {
		r.got[k] = append(r.got[k], status)
	}
	close(r.received)
	r.received = make(chan struct{})
	r.mu.Unlock()
	w.WriteHeader(status)
}

// forward posts body to target and returns the answer's status, or 502
// when the target cannot be reached.
func (r *eventRelay) forward(req *http.Request, target string, body []byte) int {
	out, err := http.NewRequestWithContext(req.Context(), http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return http.StatusBadGateway
	}
	out.Header.Set("Content-Type", req.Header.Get("Content-Type"))
	resp, err := r.client.Do(out)
	if err != nil {
		return http.StatusBadGateway
	}
	defer func() { _ = resp.Body.Close() }() // drained below
	_, _ = io.Copy(io.Discard, resp.Body)    // only the status matters
	return resp.StatusCode
}

// eventObjectKeys returns the object keys an S3 event body names.
func eventObjectKeys(body []byte) []string {
	var ev struct {
		Records []struct {
			S3 struct {
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"s3"`
		} `json:"Records"`
	}
	if json.Unmarshal(body, &ev) != nil {
		return nil
	}
	keys := make([]string, 0, len(ev.Records))
	for _, rec := range ev.Records {
		keys = append(keys, rec.S3.Object.Key)
	}
	return keys
}

// waitEvents waits until n events naming key have been forwarded, and
// fails the test if one was not answered 200.
func (r *eventRelay) waitEvents(t testing.TB, key string, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		r.mu.Lock()
		statuses, received := append([]int(nil), r.got[key]...), r.received
		r.mu.Unlock()
		for _, s := range statuses {
			if s != http.StatusOK {
				t.Fatalf("an event about %s was answered %d by the node, want 200 (all: %v)", key, s, statuses)
			}
		}
		if len(statuses) >= n {
			return
		}
		select {
		case <-received:
		case <-deadline:
			t.Fatalf("%d events about %s forwarded within %v, want %d", len(statuses), key, within, n)
		}
	}
}
