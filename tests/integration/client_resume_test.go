package integration

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sphere.software/objstore/client"
)

// clientCutProxy forwards TCP connections to a node; the first one it
// cuts once cutAfter bytes have gone the way it is told (toNode: the
// request, else the answer). It stops with the test.
type clientCutProxy struct {
	l        net.Listener
	target   string
	cutAfter int64
	toNode   bool
	conns    atomic.Int32
	wg       sync.WaitGroup

	mu   sync.Mutex // guards open
	open map[net.Conn]bool
}

func clientStartCutProxy(t testing.TB, target string, cutAfter int64, toNode bool) *clientCutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &clientCutProxy{l: l, target: target, cutAfter: cutAfter, toNode: toNode, open: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = l.Close() // ends accept
		p.mu.Lock()
		for c := range p.open {
			_ = c.Close() // ends its relays: an idle keep-alive connection would wait for the client
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// track adds c to the open connections, or removes it.
func (p *clientCutProxy) track(c net.Conn, open bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if open {
		p.open[c] = true
	} else {
		delete(p.open, c)
	}
}

func (p *clientCutProxy) URL() string { return "http://" + p.l.Addr().String() }

func (p *clientCutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.forward(c, p.conns.Add(1) == 1)
		}()
	}
}

// forward relays one connection both ways until either side ends it, or,
// when cut is set, until cutAfter bytes went the chosen way.
func (p *clientCutProxy) forward(c net.Conn, cut bool) {
	p.track(c, true)
	defer p.track(c, false)
	defer c.Close()
	n, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer n.Close()
	done := make(chan struct{}, 2)
	relay := func(dst, src net.Conn, limited bool) {
		if limited {
			_, _ = io.CopyN(dst, src, p.cutAfter) // then both ends close
		} else {
			_, _ = io.Copy(dst, src) // until one side closes
		}
		done <- struct{}{}
	}
	go relay(n, c, cut && p.toNode)
	go relay(c, n, cut && !p.toNode)
	<-done
	_ = c.Close() // unblocks the other relay
	_ = n.Close()
	<-done
}

// TestClientLibResume: a real node behind a proxy that cuts the first
// connection: a PUT of a file cut mid-body is sent again whole and stored
// once (the cut one wrote nothing), and a GET cut mid-body resumes with a
// range pinned to the ETag and returns the whole object.
func TestClientLibResume(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	ctx := testCtx(t, 2*time.Minute)
	body := randomBody(42, 8<<20+3)
	cfg := client.Config{MinBackoff: 10 * time.Millisecond}

	putProxy := clientStartCutProxy(t, n.PublicAddr, 3<<20, true)
	cfg.Endpoints = []string{putProxy.URL()}
	pc, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in, err := pc.Put(ctx, "", bytes.NewReader(body), int64(len(body)), client.PutOptions{Level: client.Origin})
	if err != nil {
		t.Fatalf("Put through a proxy that cut the first try: %v", err)
	}
	if putProxy.conns.Load() < 2 {
		t.Errorf("the proxy saw %d connections, want the cut one and a retry", putProxy.conns.Load())
	}
	if got, _ := o.Get(t, in.ID); !bytes.Equal(got, body) {
		t.Errorf("the origin holds %d bytes, want the whole body", len(got))
	}

	getProxy := clientStartCutProxy(t, n.PublicAddr, 2<<20, false)
	cfg.Endpoints = []string{getProxy.URL()}
	gc, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := gc.Get(ctx, in.ID, client.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	_ = obj.Close()
	if err != nil || !bytes.Equal(got, body) || getProxy.conns.Load() != 2 {
		t.Errorf("Get through a cut: %d bytes (want %d), %v, %d connections", len(got), len(body), err, getProxy.conns.Load())
	}

	// The same cut with no retries left fails the read instead.
	once := clientStartCutProxy(t, n.PublicAddr, 2<<20, false)
	cfg.Endpoints, cfg.MaxAttempts = []string{once.URL()}, 1
	oc, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	obj, err = oc.Get(ctx, in.ID, client.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, obj)
	_ = obj.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a cut read without retries: %v, want io.ErrUnexpectedEOF", err)
	}
}
