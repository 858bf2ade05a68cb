package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/peerapi"
)

// pushBatch is how many records one request of the full exchange carries,
// to stay below the handler's limit on a request body.
const pushBatch = 100_000

// result is one row of the table.
type result struct {
	n        int
	diff     float64
	method   string
	requests int64
	bytes    int64 // request and response bodies
	seconds  float64
	detail   string // what the pass found, for the sync
	times    string // where the journals spent their time
}

// peer is journal B behind a loopback HTTP server, with the journal A that
// talks to it.
type peer struct {
	a, b   local
	srv    *httptest.Server
	member objstore.Member
	client *peerapi.Client
	wire   wire
}

// openPeer opens journals A and B and serves B over loopback.
func openPeer(aPath, bPath string, opts journal.Options, filter bool) (*peer, error) {
	a, err := journal.Open(aPath, opts)
	if err != nil {
		return nil, err
	}
	b, err := journal.Open(bPath, opts)
	if err != nil {
		_ = a.Close() // the open error is the one to report
		return nil, err
	}
	p := &peer{a: newLocal(a, filter), b: newLocal(b, filter)}
	p.srv = httptest.NewServer(p.wire.wrap(peerapi.NewHandler(p.b, nil)))
	p.member = objstore.Member{ID: b.NodeID(), Addr: strings.TrimPrefix(p.srv.URL, "http://"), State: "alive"}
	p.client = peerapi.NewClient(p.srv.Client())
	return p, nil
}

// Close stops the server, then closes both journals.
func (p *peer) Close() error {
	p.srv.Close()
	errA, errB := p.a.j.Close(), p.b.j.Close()
	if errA != nil {
		return errA
	}
	return errB
}

// measureSync runs one Sync pass from A with B and checks that both end
// with the same digests.
func measureSync(ctx context.Context, p *peer) (result, error) {
	start := time.Now()
	st, err := node.Sync(ctx, p.a, p.client, p.member)
	elapsed := time.Since(start)
	if err != nil {
		return result{}, err
	}
	if got := st.BytesIn + st.BytesOut; got != p.wire.bytes() {
		return result{}, fmt.Errorf("sync stats count %d bytes, the server saw %d", got, p.wire.bytes())
	}
	if err := sameDigests(ctx, p.a.j, p.b.j); err != nil {
		return result{}, err
	}
	return result{
		method:   "anti-entropy Sync",
		requests: p.wire.requests.Load(),
		bytes:    p.wire.bytes(),
		seconds:  elapsed.Seconds(),
		detail: fmt.Sprintf("%d groups and %d leaves differ, %d records sent, %d received, %d bytes out, %d in",
			st.GroupsDiffer, st.LeavesDiffer, st.Sent, st.Received, st.BytesOut, st.BytesIn),
		times: p.times(),
	}, nil
}

// measureFull sends every record of A to B, pushBatch records a request,
// and checks that B then holds all of them.
func measureFull(ctx context.Context, p *peer, wantObjects int64) (result, error) {
	start := time.Now()
	batch := make([]objstore.Record, 0, pushBatch)
	var pushErr error
	flush := func() bool {
		pushErr = p.client.Push(ctx, p.member, batch)
		batch = batch[:0]
		return pushErr == nil
	}
	err := p.a.j.Range(ctx, func(rec objstore.Record) bool {
		batch = append(batch, rec)
		return len(batch) < pushBatch || flush()
	})
	if err == nil && pushErr == nil {
		flush()
	}
	elapsed := time.Since(start)
	if err != nil || pushErr != nil {
		return result{}, fmt.Errorf("full exchange: %w", cmpErr(err, pushErr))
	}
	c, err := p.b.j.Counts(ctx)
	if err != nil {
		return result{}, err
	}
	if c.Objects != wantObjects {
		return result{}, fmt.Errorf("full exchange: B holds %d objects, want %d", c.Objects, wantObjects)
	}
	return result{
		method:   "full journal A→B",
		requests: p.wire.requests.Load(),
		bytes:    p.wire.bytes(),
		seconds:  elapsed.Seconds(),
		times:    p.times(),
	}, nil
}

// times describes where the journals spent their time.
func (p *peer) times() string {
	sec := func(d *atomic.Int64) float64 { return time.Duration(d.Load()).Seconds() }
	return fmt.Sprintf("in Apply A %.3fs, B %.3fs; in digests and leaf reads A %.3fs, B %.3fs",
		sec(p.a.apply), sec(p.b.apply), sec(p.a.digest), sec(p.b.digest))
}

// cmpErr returns the first non-nil error.
func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// sameDigests checks that two journals have the same group digests.
func sameDigests(ctx context.Context, a, b *journal.Store) error {
	da, err := a.GroupDigests(ctx)
	if err != nil {
		return err
	}
	db, err := b.GroupDigests(ctx)
	if err != nil {
		return err
	}
	if !slices.Equal(da, db) {
		return fmt.Errorf("digests still differ after the sync")
	}
	return nil
}

// wire counts the requests a server takes and the bytes of their bodies.
type wire struct {
	requests atomic.Int64
	in, out  atomic.Int64
}

func (w *wire) bytes() int64 { return w.in.Load() + w.out.Load() }

func (w *wire) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.requests.Add(1)
		r.Body = countingReader{r.Body, &w.in}
		h.ServeHTTP(countingWriter{rw, &w.out}, r)
	})
}

type countingReader struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}
