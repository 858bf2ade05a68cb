package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sphere.software/objstore"
)

// logBuffer collects log records as text, safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testNode is a started Cluster with its log.
type testNode struct {
	*Cluster
	logs *logBuffer
}

var nodeSeq atomic.Int64

// startNode starts a member on 127.0.0.1 with a free port, tag "default",
// no key and an echo handler, as changed by edit; Close runs at cleanup.
func startNode(tb testing.TB, edit func(*Config)) *testNode {
	tb.Helper()
	logs := &logBuffer{}
	cfg := Config{
		NodeID:   fmt.Sprintf("node-%02d", nodeSeq.Add(1)),
		BindAddr: "127.0.0.1:0",
		Handler:  echoHandler(),
		Logger:   logs.logger(),
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := Start(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("start %s: %v", cfg.NodeID, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			tb.Errorf("close %s: %v", cfg.NodeID, err)
		}
		if tb.Failed() || os.Getenv("CLUSTER_TEST_LOGS") != "" {
			tb.Logf("log of %s:\n%s", cfg.NodeID, logs)
		}
	})
	return &testNode{Cluster: c, logs: logs}
}

// echoHandler answers /private/v1/echo with the sender's node header, the
// remote address and the body it received.
func echoHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/private/v1/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // the test compares what arrived
		fmt.Fprintf(w, "%s|%s", r.RemoteAddr, body)
	})
	return mux
}

// eventually polls cond until it holds or timeout passes.
func eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %s", timeout, what)
		}
		<-tick.C
	}
}

// stateOf returns the state c lists member id in, or "" if it does not.
func stateOf(c *Cluster, id string) string {
	for _, m := range c.Members() {
		if m.ID == id {
			return m.State
		}
	}
	return ""
}

// allAlive reports whether c lists exactly the given members, all alive.
func allAlive(c *Cluster, ids ...string) bool {
	ms := c.Members()
	if len(ms) != len(ids) {
		return false
	}
	for _, id := range ids {
		if stateOf(c, id) != StateAlive {
			return false
		}
	}
	return true
}

// get sends GET url with client and returns the status and body.
func get(tb testing.TB, client *http.Client, url string) (int, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// plainClient sends requests as curl would.
func plainClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil}}
}

// clientFrom sends requests dialled from ip, as the private API's client
// does with SourceIP.
func clientFrom(ip net.IP) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// freePort returns a port free on ip for both TCP and UDP when it returns.
func freePort(tb testing.TB, ip string) int {
	tb.Helper()
	tr, err := listen(net.JoinHostPort(ip, "0"), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	port := tr.port()
	if err := tr.Shutdown(); err != nil {
		tb.Fatal(err)
	}
	return port
}

// freeAddr returns an address that is free now, for a test that starts a
// node there later. It is on a random loopback address other than
// 127.0.0.1 where the system lets one be bound: on 127.0.0.1 the freed port
// can be taken meanwhile as the local port of any process's loopback
// connection (seen on a busy CI machine), on 127.77.3.9 practically never.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ip := fmt.Sprintf("127.%d.%d.%d", 64+rand.IntN(64), rand.IntN(256), 1+rand.IntN(254))
	if !canBind(ip) {
		ip = "127.0.0.1"
	}
	return net.JoinHostPort(ip, strconv.Itoa(freePort(tb, ip)))
}

// canBind reports whether this machine lets us bind ip (any 127/8 address
// on Linux; only 127.0.0.1 on some other systems).
func canBind(ip string) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func memberIDs(ms []objstore.Member) string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID+"="+m.State)
	}
	return strings.Join(ids, ",")
}
