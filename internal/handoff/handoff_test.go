package handoff

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
	return client, server
}

// A Conn reads what was buffered first, then the connection; writes,
// ReadFrom and CloseWrite reach the connection.
func TestConn(t *testing.T) {
	client, server := tcpPair(t)
	if _, err := io.WriteString(client, "hello, world"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(server)
	if b, err := br.Peek(5); err != nil || string(b) != "hello" {
		t.Fatalf("peek: %q %v", b, err)
	}
	c := NewConn(server, br)
	go func() {
		_, _ = io.WriteString(client, "; more")
		_ = client.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello, world; more" {
		t.Fatalf("read %q, %v", got, err)
	}
	if n, err := c.ReadFrom(strings.NewReader("answer")); n != 6 || err != nil {
		t.Fatalf("ReadFrom: %d, %v", n, err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(client)
	if err != nil || string(back) != "answer" {
		t.Fatalf("client read %q, %v", back, err)
	}
}

func TestListener(t *testing.T) {
	_, server := tcpPair(t)
	l := NewListener(server.LocalAddr())
	done := make(chan struct{})
	delivered := make(chan bool, 1)
	go func() { delivered <- l.Deliver(server, done) }()
	c, err := l.Accept()
	if err != nil || c != server || !<-delivered {
		t.Fatalf("Accept: %v, %v", c, err)
	}

	// Closed: Accept fails, Deliver closes what it cannot hand over.
	_, other := tcpPair(t)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	if l.Deliver(other, done) {
		t.Fatal("Deliver after Close reported true")
	}
	_ = other.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := other.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("undelivered connection not closed: %v", err)
	}

	// done ends a Deliver that nobody accepts; an error given to Close is
	// what Accept returns.
	l2 := NewListener(server.LocalAddr())
	failed := errors.New("accept: too many open files")
	defer func() {
		l2.CloseWithError(failed)
		_ = l2.Close()
		if _, err := l2.Accept(); !errors.Is(err, failed) {
			t.Errorf("Accept after Close(err): %v", err)
		}
	}()
	_, third := tcpPair(t)
	close(done)
	if l2.Deliver(third, done) {
		t.Fatal("Deliver after done reported true")
	}
}
