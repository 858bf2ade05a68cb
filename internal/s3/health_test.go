package s3

import (
	"context"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"sphere.software/objstore"
)

// TestRecheck: a reader that needs a recent state kicks the probe when
// the last one is old, not when it is recent, and the state follows.
func TestRecheck(t *testing.T) {
	probed := make(chan struct{}, 4)
	var fail error
	h := newHealth(func(context.Context) error {
		probed <- struct{}{}
		return fail
	}, target{Bucket: "b", Endpoint: "http://127.0.0.1:1"}, slog.New(slog.DiscardHandler))
	h.recheck(0) // before start: nothing to kick
	h.start(t.Context())
	t.Cleanup(func() { _ = h.stop(context.Background()) })
	<-probed // the start's probe
	if got := h.get().State; got != objstore.OriginOK {
		t.Fatalf("state %q after a good probe", got)
	}

	h.recheck(time.Second) // the last probe is recent: no kick
	select {
	case <-probed:
		t.Fatal("probed again although the last probe is recent")
	case <-time.After(50 * time.Millisecond):
	}

	// Read by the probe that the kick below starts: the kick's channel
	// orders this write before that read.
	fail = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	h.mu.Lock()
	h.lastProbe = time.Now().Add(-time.Minute)
	h.mu.Unlock()
	h.recheck(10 * time.Second)
	select {
	case <-probed:
	case <-time.After(10 * time.Second):
		t.Fatal("an old state was not probed again")
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.get().State != objstore.OriginUnreachable {
		if time.Now().After(deadline) {
			t.Fatalf("state %q after a refused probe, want unreachable", h.get().State)
		}
		time.Sleep(time.Millisecond)
	}
}
