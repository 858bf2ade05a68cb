package accesslog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/requestid"
)

// lines collects JSON log records; safe for concurrent writers.
type lines struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// records parses the JSON lines written so far.
func (l *lines) records(t testing.TB) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// wait returns the records once there are n: a line is written when the
// answer is, which the client may see complete a moment before.
func (l *lines) wait(t testing.TB, n int) []map[string]any {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); ; <-tick.C {
		recs := l.records(t)
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d access records, want %d", len(recs), n)
		}
	}
}

func newLog() (*Log, *lines) {
	out := &lines{}
	return New(slog.New(slog.NewJSONHandler(out, nil))), out
}

// wantRecord checks the fields of one access record.
func wantRecord(t testing.TB, rec map[string]any, api, method, path string, status, bytes int) {
	t.Helper()
	if rec["msg"] != Msg || rec["level"] != "INFO" || rec["api"] != api || rec["method"] != method || rec["path"] != path ||
		rec["status"] != float64(status) || rec["bytes"] != float64(bytes) {
		t.Errorf("record %v, want api=%s method=%s path=%s status=%d bytes=%d", rec, api, method, path, status, bytes)
	}
	if r, _ := rec["remote"].(string); !strings.HasPrefix(r, "127.0.0.1:") {
		t.Errorf("record %v: remote %q, want 127.0.0.1:port", rec, rec["remote"])
	}
	if _, ok := rec["duration"].(float64); !ok {
		t.Errorf("record %v: no duration", rec)
	}
	if _, ok := rec["time"].(string); !ok {
		t.Errorf("record %v: no time", rec)
	}
}

func TestHandler(t *testing.T) {
	file := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(file, bytes.Repeat([]byte("x"), 100_000), 0o600); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello") })
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, file) })
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "a")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush through the recorder: %v", err)
		}
		_, _ = io.WriteString(w, "b")
	})
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "part")
		panic(http.ErrAbortHandler)
	})
	l, out := newLog()
	srv := httptest.NewServer(l.Handler("native", mux))
	defer srv.Close()

	for i, tc := range []struct {
		method, path  string
		status, bytes int
		body          string
	}{
		{"GET", "/hello", 200, 5, ""},
		{"GET", "/empty", 200, 0, ""},
		{"PUT", "/created", 201, 0, "some body"},
		{"GET", "/file", 200, 100_000, ""},
		{"HEAD", "/file", 200, 0, ""},
		{"GET", "/flush", 200, 2, ""},
		{"GET", "/missing", 404, len("404 page not found\n"), ""},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path+"?X-Amz-Signature=secret", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		recs := out.wait(t, i+1)
		wantRecord(t, recs[i], "native", tc.method, tc.path, tc.status, tc.bytes)
	}
	if _, err := srv.Client().Get(srv.URL + "/abort"); err == nil {
		t.Error("GET /abort: no error, want a cut connection")
	}
	recs := out.wait(t, 8)
	last := recs[7]
	wantRecord(t, last, "native", "GET", "/abort", 200, 4)
	if last["aborted"] != true {
		t.Errorf("record %v: want aborted=true", last)
	}
	for _, rec := range recs[:7] {
		if rec["aborted"] != nil || rec["fast"] != nil {
			t.Errorf("record %v: aborted or fast, want neither", rec)
		}
	}
	for _, rec := range recs {
		if strings.Contains(rec["path"].(string), "secret") {
			t.Errorf("record %v shows the query", rec)
		}
	}
}

// hot answers GET /hot from memory on the fast path.
type hot struct{}

func (hot) Answer(req *fastpath.Request) (fastpath.Answer, bool) {
	if string(req.Path()) != "/hot" {
		return fastpath.Answer{}, false
	}
	return fastpath.Answer{Head: []byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"), Body: []byte("hot")}, true
}

func TestFast(t *testing.T) {
	l, out := newLog()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: requestid.Middleware(l.Handler("s3", http.NotFoundHandler())), IdleTimeout: time.Minute, ReadHeaderTimeout: 10 * time.Second}
	front := fastpath.New(srv, ln, hot{})
	front.OnAnswer = l.Fast("s3")
	served := make(chan error, 1)
	go func() { served <- front.Serve() }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := front.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for i, tc := range []struct {
		method, path  string
		status, bytes int
		id            string // sent as X-Request-Id
	}{
		{"GET", "/hot", 200, 3, ""},
		{"HEAD", "/hot", 200, 0, "client-1"},
		{"GET", "/cold", 404, len("404 page not found\n"), "client-2"},
		{"GET", "/cold", 404, len("404 page not found\n"), ""},
		{"GET", "/hot", 200, 3, "bad id"},
	} {
		req, err := http.NewRequest(tc.method, "http://"+ln.Addr().String()+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.id != "" {
			req.Header.Set(requestid.Header, tc.id)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		recs := out.wait(t, i+1)
		wantRecord(t, recs[i], "s3", tc.method, tc.path, tc.status, tc.bytes)
		// fast=true on the fast path's answers only, absent elsewhere.
		flag, marked := recs[i]["fast"]
		if fast := tc.path == "/hot"; marked != fast || marked && flag != true {
			t.Errorf("record %v: want fast=%v", recs[i], fast)
		}
		// The ID answered is the one logged, the client's when sane.
		id := resp.Header.Get(requestid.Header)
		if id == "" || recs[i][requestid.Attr] != id || requestid.Valid(tc.id) != (id == tc.id) {
			t.Errorf("record %v, answer's id %q, sent %q: want the same id, the sent one if valid", recs[i], id, tc.id)
		}
	}
	if got := front.Served(); got != 3 {
		t.Errorf("fast path served %d, want 3 (the test must cover it)", got)
	}
}

func TestStatusOf(t *testing.T) {
	for head, want := range map[string]int{
		"HTTP/1.1 200 OK\r\n":           200,
		"HTTP/1.1 304 Not Modified\r\n": 304,
		"HTTP/1.1 2x0 OK\r\n":           0,
		"HTTP/1.1 20":                   0,
		"":                              0,
	} {
		if got := statusOf([]byte(head)); got != want {
			t.Errorf("statusOf(%q) = %d, want %d", head, got, want)
		}
	}
}
