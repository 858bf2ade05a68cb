package peerapi

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"sphere.software/objstore"
)

// wire counts what crosses the HTTP server: requests and body bytes.
type wire struct {
	requests atomic.Int64
	in       atomic.Int64 // request body bytes read by the handler
	out      atomic.Int64 // response body bytes written
}

func (c *wire) reset() {
	c.requests.Store(0)
	c.in.Store(0)
	c.out.Store(0)
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n.Add(int64(n))
	return n, err
}

func (c *wire) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		r.Body = countingBody{r.Body, &c.in}
		h.ServeHTTP(countingWriter{w, &c.out}, r)
	})
}

// serve runs local's handler behind an httptest server and returns the
// member to reach it and the counters of its traffic.
func serve(tb testing.TB, local Local) (objstore.Member, *wire) {
	tb.Helper()
	c := new(wire)
	srv := httptest.NewServer(c.wrap(NewHandler(local, nil)))
	tb.Cleanup(srv.Close)
	return objstore.Member{ID: "peer", Addr: strings.TrimPrefix(srv.URL, "http://"), State: "alive"}, c
}

// newClient returns a client over the default transport.
func newClient() *Client { return NewClient(&http.Client{}) }

// testRecord makes a live record of key with version hlc on node, with
// every field set.
func testRecord(key objstore.Key, hlc uint64, node string) objstore.Record {
	v := objstore.Version{HLC: hlc, Node: node}
	return objstore.Record{
		Key:         key,
		Name:        key.ID + ".txt",
		ContentType: "text/plain",
		UserMeta:    []byte(`{"n":1}`),
		Level:       objstore.LevelS3,
		Sum:         objstore.Checksum{Size: int64(hlc % 1000), CRC32C: uint32(hlc), MD5: objstore.MD5{1, 2, 3}},
		Version:     v,
		BodyVersion: v,
		InRemote:    true,
	}
}

// randomKeys returns n distinct keys.
func randomKeys(rng *rand.Rand, n int) []objstore.Key {
	keys := make([]objstore.Key, n)
	for i := range keys {
		keys[i] = objstore.Key{Bucket: fmt.Sprintf("b%d", i%3), ID: fmt.Sprintf("%08d-%x", i, rng.Uint64())}
	}
	return keys
}
