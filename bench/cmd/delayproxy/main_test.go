package main

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

// The relay delivers every byte, in order, in both directions, each way
// no sooner than the delay after it was sent, and passes a half-close on:
// an upstream that echoes until EOF gives back exactly the bytes sent, and
// the first echoed byte comes a round trip (two delays) after the first
// sent one.
func TestRelayDelaysBothWays(t *testing.T) {
	const delay = 20 * time.Millisecond
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		c, err := echo.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c) // until the client's half-close arrives
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, echo.Addr().String(), delay) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent := make([]byte, 3<<20+5)
	r := rand.New(rand.NewPCG(7, 8))
	for i := range sent {
		sent[i] = byte(r.Uint32())
	}
	start := time.Now()
	write := make(chan error, 1)
	go func() {
		_, err := c.Write(sent)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		write <- err
	}()
	first := make([]byte, 1)
	if _, err := io.ReadFull(c, first); err != nil {
		t.Fatal(err)
	}
	if rtt := time.Since(start); rtt < 2*delay {
		t.Errorf("the first byte came back after %v, before a round trip of %v", rtt, 2*delay)
	}
	rest, err := io.ReadAll(c) // ends when the half-close came back
	if err != nil {
		t.Fatal(err)
	}
	if err := <-write; err != nil {
		t.Fatal(err)
	}
	if got := append(first, rest...); !bytes.Equal(got, sent) {
		t.Fatalf("%d bytes came back, not the %d sent", len(got), len(sent))
	}
}
