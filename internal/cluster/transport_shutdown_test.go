package cluster

import (
	"log/slog"
	"testing"

	"github.com/hashicorp/memberlist"
)

// TestWriteAfterShutdown: memberlist may send a packet after it has shut
// the transport down (its timers stop later); the packet is dropped
// without an error, which memberlist would log as one.
func TestWriteAfterShutdown(t *testing.T) {
	tr, err := listen("127.0.0.1:0", nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	peer, err := listen("127.0.0.1:0", nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = peer.Shutdown() }() // the test's outcome is the writes'
	to := memberlist.Address{Addr: peer.udp.LocalAddr().String()}
	if _, err := tr.WriteToAddress([]byte("ping"), to); err != nil {
		t.Fatalf("write before shutdown: %v", err)
	}
	if err := tr.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.WriteToAddress([]byte("ping"), to); err != nil {
		t.Errorf("write after shutdown: %v, want the packet dropped quietly", err)
	}
}
