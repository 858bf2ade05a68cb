package peerapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAuthenticateRefusesReplay sends one signed push twice, byte for
// byte: the handler sees it once, the copy gets 401 "replayed". A request
// for another node, or whose addressee was changed, gets 401 too.
func TestAuthenticateRefusesReplay(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewServer(authenticate(testKey, "node-b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
	}), slog.New(slog.DiscardHandler)))
	defer srv.Close()

	signedFor := func(to string) *http.Request {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/private/v1/push", strings.NewReader("records"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(HeaderTo, to)
		if err := Sign(req, "node-a", testKey); err != nil {
			t.Fatal(err)
		}
		return req
	}
	req := signedFor("node-b")
	send := func(req *http.Request) (int, string) {
		r := req.Clone(t.Context())
		r.Body, _ = req.GetBody()
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := send(req); status != http.StatusOK {
		t.Fatalf("first send: %d %q", status, body)
	}
	status, body := send(req)
	if status != http.StatusUnauthorized || !strings.Contains(body, "replayed") || strings.Count(body, "\n") != 1 {
		t.Errorf("replay: %d %q, want 401 with a one-line reason saying replayed", status, body)
	}
	if status, body := send(signedFor("node-c")); status != http.StatusUnauthorized || !strings.Contains(body, "addressed to node") {
		t.Errorf("a request for node-c: %d %q, want 401 addressed to another node", status, body)
	}
	readdressed := signedFor("node-c")
	readdressed.Header.Set(HeaderTo, "node-b")
	if status, body := send(readdressed); status != http.StatusUnauthorized || !strings.Contains(body, "bad signature") {
		t.Errorf("a request for node-c readdressed to node-b: %d %q, want 401 bad signature", status, body)
	}
	if n := served.Load(); n != 1 {
		t.Errorf("the handler served %d requests, want 1", n)
	}
}

// nonceOf gives the i-th of a series of distinct nonces.
func nonceOf(i int) string {
	return strconv.FormatInt(int64(0x10000000+i), 16) + strings.Repeat("0", 2*nonceSize-8)
}

// TestReplayGuardForgetsExpired checks that a nonce is refused while its
// date is in the window and forgotten, freeing its room, once it is not.
func TestReplayGuardForgetsExpired(t *testing.T) {
	g := newReplayGuard(10)
	date := strconv.FormatInt(testNow.UnixMilli(), 10)
	if err := g.admit(nonceOf(1), date, testNow); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{testNow, testNow.Add(MaxClockSkew)} {
		if err := g.admit(nonceOf(1), date, at); !errors.Is(err, ErrReplayed) || !errors.Is(err, ErrUnauthorized) {
			t.Errorf("the same nonce at %v: %v, want ErrReplayed", at.Sub(testNow), err)
		}
	}
	later := testNow.Add(MaxClockSkew + nonceBucket)
	if err := g.admit(nonceOf(2), strconv.FormatInt(later.UnixMilli(), 10), later); err != nil {
		t.Fatal(err)
	}
	if g.n != 1 || len(g.buckets) != 1 {
		t.Errorf("after the window: %d nonces in %d buckets, want the new one only", g.n, len(g.buckets))
	}
}

// TestReplayGuardFull checks that a full guard refuses new nonces, and the
// middleware answers 503, rather than growing.
func TestReplayGuardFull(t *testing.T) {
	g := newReplayGuard(3)
	date := strconv.FormatInt(testNow.UnixMilli(), 10)
	for i := range 3 {
		if err := g.admit(nonceOf(i), date, testNow); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.admit(nonceOf(3), date, testNow); !errors.Is(err, ErrNoncesFull) {
		t.Errorf("a 4th nonce in a guard of 3: %v, want ErrNoncesFull", err)
	}
	if err := g.admit(nonceOf(0), date, testNow); !errors.Is(err, ErrReplayed) {
		t.Errorf("a replay in a full guard: %v, want ErrReplayed", err)
	}
	if g.n != 3 {
		t.Errorf("%d nonces held, want 3", g.n)
	}
}
