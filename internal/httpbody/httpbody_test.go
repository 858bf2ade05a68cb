package httpbody_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"sphere.software/objstore/internal/httpbody"
)

// body is a Body over data whose Read is only used by ServeContent's
// content sniffing and multi-range parts; it counts the bytes that went
// out through WriteN.
type body struct {
	*bytes.Reader
	viaWriteN int64
}

func (b *body) WriteN(w io.Writer, n int64) (int64, error) {
	k, err := io.CopyN(w, onlyReader{b.Reader}, n)
	b.viaWriteN += k
	return k, err
}

type onlyReader struct{ io.Reader }

func TestServeCopiesWithWriteN(t *testing.T) {
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(i * 13)
	}
	for _, tc := range []struct {
		rng        string
		start, end int
	}{
		{"", 0, len(data)},
		{"bytes=1000-199999", 1000, 200000},
		{"bytes=-10", len(data) - 10, len(data)},
	} {
		t.Run(tc.rng, func(t *testing.T) {
			b := &body{Reader: bytes.NewReader(data)}
			served := make(chan struct{}) // the handler returned: b is its own again
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(served)
				w.Header().Set("Content-Type", "application/octet-stream")
				httpbody.Serve(w, r, time.Time{}, b)
			}))
			defer srv.Close()
			req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.rng != "" {
				req.Header.Set("Range", tc.rng)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close() // read whole
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data[tc.start:tc.end]) {
				t.Fatalf("got %d bytes, want bytes %d-%d", len(got), tc.start, tc.end)
			}
			<-served
			if b.viaWriteN != int64(tc.end-tc.start) {
				t.Fatalf("%d bytes went through WriteN, want all %d", b.viaWriteN, tc.end-tc.start)
			}
		})
	}
}

// failing is a Body whose WriteN stops after half of what it was asked.
type failing struct{ body }

var errRot = errors.New("rot")

func (f *failing) WriteN(w io.Writer, n int64) (int64, error) {
	k, _ := f.body.WriteN(w, n/2)
	return k, errRot
}

// TestServeStopsShort: a body that fails leaves a response shorter than
// its Content-Length once the handler aborts, never a complete one.
func TestServeStopsShort(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		httpbody.Serve(w, r, time.Time{}, &failing{body{Reader: bytes.NewReader(data)}})
		panic(http.ErrAbortHandler) // what the handlers do when the body's Err is set
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatalf("GET: %v (half the body went out: the headers must have too)", err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err == nil || len(got) >= len(data) {
		t.Fatalf("read %d bytes, err %v: want a cut response", len(got), err)
	}
}
