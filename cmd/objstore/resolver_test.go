package main

import (
	"context"
	"net"
	"testing"
	"time"
)

func TestClusterResolver(t *testing.T) {
	if r := clusterResolver(func(string) string { return "" }); r != net.DefaultResolver {
		t.Fatalf("without $%s: %T, want net.DefaultResolver", testDNSServerEnv, r)
	}
	// With it, lookups go to that server: a UDP socket standing in for
	// one sees the query.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	r := clusterResolver(func(k string) string {
		if k == testDNSServerEnv {
			return pc.LocalAddr().String()
		}
		return ""
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := r.LookupIP(ctx, "ip4", "peers.objstore.test")
		done <- err
	}()
	if err := pc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no query reached the server named by $%s: %v", testDNSServerEnv, err)
	}
	if n < 12 {
		t.Fatalf("query of %d bytes, shorter than a DNS header", n)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("lookup succeeded with a server that never answered")
	}
}
