package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fast is a client of endpoints with tiny backoffs.
func fast(t *testing.T, endpoints ...string) *Client {
	t.Helper()
	c, err := New(Config{Endpoints: endpoints, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closedAddr is an address that refuses connections.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// serve runs h and counts its requests.
func serve(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func refuse(w http.ResponseWriter, status int, reason string, hdr ...string) {
	for i := 0; i+1 < len(hdr); i += 2 {
		w.Header().Set(hdr[i], hdr[i+1])
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "error: "+reason+"\n")
}

// TestFailover: a node that refuses connections is passed over, and the
// next call starts at the node that answered.
func TestFailover(t *testing.T) {
	srv, n := serve(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "node-b") })
	c := fast(t, closedAddr(t), srv.URL)
	for range 2 {
		id, err := c.Ping(t.Context())
		if err != nil || id != "node-b" {
			t.Fatalf("Ping = %q, %v; want node-b", id, err)
		}
	}
	if n.Load() != 2 || c.preferred.Load() != 1 {
		t.Errorf("node b saw %d pings, preferred %d; want 2 and 1", n.Load(), c.preferred.Load())
	}
}

// TestRetryStatus: 502, 503, 504 and 429 are retried until an answer
// comes or the tries run out; other refusals are not retried and match
// their sentinel.
func TestRetryStatus(t *testing.T) {
	for _, status := range []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusTooManyRequests} {
		srv, n := serve(t, func(w http.ResponseWriter, r *http.Request) {
			refuse(w, status, "busy")
		})
		c := fast(t, srv.URL)
		_, err := c.Meta(t.Context(), "X")
		if n.Load() != DefaultMaxAttempts {
			t.Errorf("%d: %d tries, want %d", status, n.Load(), DefaultMaxAttempts)
		}
		var e *Error
		if !errors.As(err, &e) || e.Status != status || e.Message != "busy" {
			t.Errorf("%d: err %v, want an *Error with the status and reason", status, err)
		}
	}
	for _, tc := range []struct {
		status int
		hdr    []string
		want   error
	}{
		{http.StatusNotFound, nil, ErrNotFound},
		{http.StatusBadRequest, nil, ErrBadRequest},
		{http.StatusUnauthorized, nil, ErrUnauthorized},
		{http.StatusForbidden, nil, ErrForbidden},
		{http.StatusConflict, nil, ErrConflict},
		{http.StatusRequestEntityTooLarge, nil, ErrTooLarge},
		{http.StatusInternalServerError, []string{"X-Objstore-Lost", "true"}, ErrLost},
		{http.StatusInternalServerError, nil, ErrServer},
		{http.StatusInsufficientStorage, nil, ErrInsufficientStorage},
	} {
		srv, n := serve(t, func(w http.ResponseWriter, r *http.Request) { refuse(w, tc.status, "no", tc.hdr...) })
		_, err := fast(t, srv.URL).Meta(t.Context(), "X")
		if !errors.Is(err, tc.want) || n.Load() != 1 {
			t.Errorf("%d: err %v after %d tries, want %v after 1", tc.status, err, n.Load(), tc.want)
		}
	}
}

// TestDeletedIsNotFound: a 404 about a deleted object matches ErrNotFound
// and says it was deleted.
func TestDeletedIsNotFound(t *testing.T) {
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Meta-Deleted", "true")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"is_deleted": true}`)
	})
	_, err := fast(t, srv.URL).Get(t.Context(), "X", GetOptions{})
	var e *Error
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || !e.Deleted || e.Message != "" {
		t.Fatalf("err %v, want ErrNotFound with Deleted", err)
	}
	if !strings.Contains(err.Error(), "404 Not Found (deleted)") {
		t.Errorf("message %q does not say 404 and deleted", err)
	}
}

// TestUnreachable: when no node can be reached the error says so and
// matches ErrUnreachable, after every try.
func TestUnreachable(t *testing.T) {
	c := fast(t, closedAddr(t), closedAddr(t))
	_, err := c.Nodes(t.Context())
	var e *Error
	if !errors.Is(err, ErrUnreachable) || !errors.As(err, &e) || e.Status != 0 || !isDialError(err) {
		t.Fatalf("err %v, want ErrUnreachable from a dial", err)
	}
}

// TestContextEndsRetries: a call's context bounds its retries.
func TestContextEndsRetries(t *testing.T) {
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { refuse(w, http.StatusServiceUnavailable, "down") })
	c, err := New(Config{Endpoints: []string{srv.URL}, MaxAttempts: 1000, MinBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Stats(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("err %v, want the deadline and the last answer", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
}

// TestContextEndsTry: a try cut short by the call's context is the
// context's error, not ErrUnreachable.
func TestContextEndsTry(t *testing.T) {
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := fast(t, srv.URL).Ping(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), "unreachable") {
		t.Errorf("err %v, want the deadline alone", err)
	}
}

// breakAfter answers a PUT's first try by reading half its body and then
// cutting the connection; later tries are stored in got.
func breakAfter(t *testing.T, got *[]byte) (*httptest.Server, *atomic.Int32) {
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Meta-ID") == "" {
			_, _ = io.WriteString(w, "01ID") // /api/v1/id
			return
		}
		if *got == nil {
			*got = []byte{} // the first try
			_, _ = io.CopyN(io.Discard, r.Body, r.ContentLength/2)
			panic(http.ErrAbortHandler)
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		*got = b
		w.Header().Set("X-Meta-Id", r.Header.Get("X-Meta-ID"))
		w.Header().Set("X-Meta-Consistencylevel", r.Header.Get("X-Meta-ConsistencyLevel"))
	})
}

// TestPutReplaysSeeker: a PUT of an io.ReadSeeker cut off mid-body is
// sent again from where the body started; one of a plain io.Reader is not.
func TestPutReplaysSeeker(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB
	t.Run("seeker", func(t *testing.T) {
		var got []byte
		srv, n := breakAfter(t, &got)
		r := bytes.NewReader(append([]byte("skip"), body...))
		if _, err := r.Seek(4, io.SeekStart); err != nil { // a body that does not start at 0
			t.Fatal(err)
		}
		in, err := fast(t, srv.URL).Put(t.Context(), "01X", r, int64(len(body)), PutOptions{Level: Full})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, body) || n.Load() != 2 || in.ID != "01X" || in.Level != Full {
			t.Errorf("stored %d bytes (equal %v) after %d tries, info %+v", len(got), bytes.Equal(got, body), n.Load(), in)
		}
	})
	t.Run("reader", func(t *testing.T) {
		var got []byte
		srv, n := breakAfter(t, &got)
		_, err := fast(t, srv.URL).Put(t.Context(), "01X", io.MultiReader(bytes.NewReader(body)), int64(len(body)), PutOptions{})
		if !errors.Is(err, ErrUnreachable) || n.Load() != 1 {
			t.Errorf("err %v after %d tries, want ErrUnreachable after 1", err, n.Load())
		}
	})
	t.Run("unread reader", func(t *testing.T) {
		// A node that cannot be reached read nothing: any body goes on.
		var got []byte
		srv, _ := breakAfter(t, &got)
		got = []byte{}
		c := fast(t, closedAddr(t), srv.URL)
		if _, err := c.Put(t.Context(), "", io.MultiReader(bytes.NewReader(body)), -1, PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, body) {
			t.Errorf("stored %d bytes, want %d", len(got), len(body))
		}
	})
}

// TestGetResumes: a body that breaks off is read on from where it broke,
// pinned to its ETag; an object that changed meanwhile fails the read.
func TestGetResumes(t *testing.T) {
	body := bytes.Repeat([]byte("objstore"), 1<<15) // 256 KiB
	for _, changed := range []bool{false, true} {
		var ranges []string
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("X-Meta-Id", "01X")
			if changed && r.Header.Get("If-Match") != "" {
				w.Header().Set("ETag", `"v2"`)
			}
			ranges = append(ranges, r.Header.Get("Range")+" "+r.Header.Get("If-Match"))
			if len(ranges) == 1 {
				w.Header().Set("Content-Range", "bytes 8-262143/262144")
				w.Header().Set("Content-Length", "262136")
				w.WriteHeader(http.StatusPartialContent)
				_, _ = w.Write(body[8:100008])
				panic(http.ErrAbortHandler)
			}
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		})
		o, err := fast(t, srv.URL).Get(t.Context(), "01X", GetOptions{Offset: 8})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(o)
		_ = o.Close()
		if changed {
			if !errors.Is(err, ErrPreconditionFailed) {
				t.Errorf("changed object: err %v, want ErrPreconditionFailed", err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, body[8:]) {
			t.Fatalf("read %d bytes, %v; want %d", len(got), err, len(body)-8)
		}
		if want := []string{"bytes=8- ", `bytes=100008-262143 "v1"`}; len(ranges) != 2 || ranges[0] != want[0] || ranges[1] != want[1] {
			t.Errorf("requests %q, want %q", ranges, want)
		}
	}
}

// TestDeleteRetriedFindsItDeleted: a delete whose answer was lost and
// whose retry finds the object deleted succeeds; a first try that finds
// it deleted does not.
func TestDeleteRetriedFindsItDeleted(t *testing.T) {
	var deleted atomic.Bool
	srv, n := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if deleted.Swap(true) {
			refuse(w, http.StatusNotFound, "deleted", "X-Meta-Deleted", "true")
			return
		}
		panic(http.ErrAbortHandler) // deleted, but the answer is lost
	})
	c := fast(t, srv.URL)
	if _, err := c.Delete(t.Context(), "01X"); err != nil || n.Load() != 2 {
		t.Fatalf("Delete: %v after %d tries, want success after 2", err, n.Load())
	}
	if _, err := c.Delete(t.Context(), "01X"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
}

// TestWarmRetriedOnlyUnsent: a warm-up start is retried after 429, not
// after a connection that broke once the request was sent.
func TestWarmRetriedOnlyUnsent(t *testing.T) {
	srv, n := serve(t, func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	})
	if _, err := fast(t, srv.URL).Warm(t.Context(), WarmPrefix("b", "")); !errors.Is(err, ErrUnreachable) || n.Load() != 1 {
		t.Errorf("broken warm start: %v after %d tries, want ErrUnreachable after 1", err, n.Load())
	}
	var tries atomic.Int32
	busy, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if tries.Add(1) == 1 {
			refuse(w, http.StatusTooManyRequests, "four jobs run", "Retry-After", "0")
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"id":"J1","state":"running"}`)
	})
	j, err := fast(t, busy.URL).Warm(t.Context(), WarmKeys("b", "k"))
	if err != nil || j.ID != "J1" || tries.Load() != 2 {
		t.Errorf("warm after 429: %+v, %v after %d tries", j, err, tries.Load())
	}
}

// TestAuthHeaders: a token is sent as a bearer token; keys sign.
func TestAuthHeaders(t *testing.T) {
	var got http.Header
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() })
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Token: "tok"}, "Bearer tok"},
		{Config{AccessKey: "AK", SecretKey: "SK", Region: "eu-west-1"}, "AWS4-HMAC-SHA256 Credential=AK/"},
	} {
		tc.cfg.Endpoints = []string{srv.URL}
		c, err := New(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		if a := got.Get("Authorization"); !strings.HasPrefix(a, tc.want) {
			t.Errorf("Authorization %q, want prefix %q", a, tc.want)
		}
	}
	if !strings.Contains(got.Get("Authorization"), "/eu-west-1/s3/aws4_request") || got.Get("X-Amz-Content-Sha256") != unsignedPayload {
		t.Errorf("signature %q, content hash %q", got.Get("Authorization"), got.Get("X-Amz-Content-Sha256"))
	}
}

// TestConfigValidate names what is wrong.
func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no endpoint"},
		{Config{Endpoints: []string{"ftp://x"}}, "want http"},
		{Config{Endpoints: []string{"http://"}}, "no host"},
		{Config{Endpoints: []string{"x:1"}, AccessKey: "a"}, "both"},
		{Config{Endpoints: []string{"x:1"}, MaxAttempts: -1}, "MaxAttempts"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
}

// TestObjectsPages: the iterator follows the pages with after=, and stops
// when the caller does.
func TestObjectsPages(t *testing.T) {
	var afters []string
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		after := r.URL.Query().Get("after")
		afters = append(afters, after)
		switch after {
		case "":
			_, _ = io.WriteString(w, `{"objects":[{"file_id":"A"},{"file_id":"B","user_meta":{ "x" : 1 }}],"truncated":true,"next":"B"}`)
		case "B":
			_, _ = io.WriteString(w, `{"objects":[{"file_id":"C"}],"truncated":false}`)
		default:
			t.Errorf("after=%q", after)
		}
	})
	c := fast(t, srv.URL)
	var ids []string
	for m, err := range c.Objects(t.Context(), "") {
		if err != nil {
			t.Fatal(err)
		}
		if m.ID == "B" && string(m.UserMeta) != `{"x":1}` {
			t.Errorf("user meta %s, want it compact", m.UserMeta)
		}
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "A,B,C" || strings.Join(afters, ",") != ",B" {
		t.Errorf("ids %v after %q", ids, afters)
	}
	for m := range c.Objects(t.Context(), "") {
		if m.ID == "A" {
			break // no second page asked for
		}
	}
	if len(afters) != 3 {
		t.Errorf("a loop that broke at the first object asked for %d pages", len(afters)-2)
	}
}

// TestPutSizes: an empty body is sent with Content-Length 0, a body of
// unknown size chunked.
func TestPutSizes(t *testing.T) {
	var lengths []int64
	var chunked []bool
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		lengths = append(lengths, r.ContentLength)
		chunked = append(chunked, len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked")
		_, _ = io.Copy(io.Discard, r.Body)
	})
	c := fast(t, srv.URL)
	if _, err := c.Put(t.Context(), "01X", strings.NewReader(""), 0, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(t.Context(), "01X", io.MultiReader(strings.NewReader("abc")), -1, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if lengths[0] != 0 || chunked[0] || lengths[1] != -1 || !chunked[1] {
		t.Errorf("lengths %v chunked %v, want 0 plain and -1 chunked", lengths, chunked)
	}
	for _, bad := range []struct {
		size  int64
		level Level
	}{{-2, Local}, {1, Level(3)}} {
		if _, err := c.Put(t.Context(), "01X", strings.NewReader("a"), bad.size, PutOptions{Level: bad.level}); err == nil {
			t.Errorf("Put size %d level %d: no error", bad.size, bad.level)
		}
	}
}
