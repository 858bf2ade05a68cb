// Package objstoretest holds helpers for tests across objstore: a real
// S3-compatible server (versitygw) run as its own process behind a counting
// proxy, free loopback ports, and a test logger.
package objstoretest

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
)

// Logger returns a logger for code under test: with -v it writes through
// t.Log, otherwise it discards. Records logged after the test ends are
// dropped rather than panicking.
func Logger(t testing.TB) *slog.Logger {
	t.Helper()
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testWriter writes log lines through t.Log until the test's cleanup.
type testWriter struct {
	mu      sync.Mutex // guards t and stopped
	t       testing.TB
	stopped bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(string(p[:len(p)-min(1, len(p))])) // drop the handler's newline
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
}

// FreeAddr returns a loopback address "127.0.0.1:PORT" that was free a
// moment ago. Another process may take it before the caller binds it, so
// callers that start servers should retry on "address in use".
func FreeAddr(t testing.TB) string {
	t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("objstoretest: find a free port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("objstoretest: find a free port: %v", err)
	}
	return addr
}

// FreePort returns a loopback TCP port that was free a moment ago; see FreeAddr.
func FreePort(t testing.TB) int {
	t.Helper()
	_, port, err := net.SplitHostPort(FreeAddr(t))
	if err != nil {
		t.Fatalf("objstoretest: %v", err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("objstoretest: %v", err)
	}
	return n
}
