package deadline

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

const progress = 200 * time.Millisecond

// pair returns a wrapped client end and the raw server end of a loopback
// TCP connection.
func pair(t *testing.T, firstByte time.Duration) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { _ = c.Close(); _ = s.Close() })
	return Wrap(c, progress, firstByte), s
}

func wantStall(t *testing.T, err error, op string) {
	t.Helper()
	var se *StallError
	if !errors.As(err, &se) || se.Op != op || !errors.Is(err, os.ErrDeadlineExceeded) || !IsTimeout(err) {
		t.Fatalf("err = %v, want a %s StallError", err, op)
	}
}

func TestReadStallsAfterProgressBound(t *testing.T) {
	c, _ := pair(t, 0)
	start := time.Now()
	_, err := c.Read(make([]byte, 1))
	wantStall(t, err, "read")
	if d := time.Since(start); d < progress*15/16 || d > 5*progress {
		t.Fatalf("read failed after %v, want about %v", d, progress)
	}
}

func TestSteadyReadsDoNotStall(t *testing.T) {
	c, s := pair(t, 0)
	go func() {
		for range 10 {
			time.Sleep(progress / 3)
			if _, err := s.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 1)
	for i := range 10 {
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatalf("read %d over %v: %v", i, 10*progress/3, err)
		}
	}
}

// A slow upload keeps a pending Read alive, as net/http's read loop has
// one pending during every upload.
func TestWriteProgressExtendsPendingRead(t *testing.T) {
	c, s := pair(t, 0)
	read := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(c, make([]byte, 2))
		read <- err
	}()
	for range 10 { // 10 × progress/3: over three bounds
		time.Sleep(progress / 3)
		if _, err := c.Write([]byte("y")); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	select {
	case err := <-read:
		t.Fatalf("pending read ended during the upload: %v", err)
	default:
	}
	if _, err := s.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatalf("pending read: %v", err)
	}
}

// After a request is written the answer may take the first-byte bound.
func TestReadAfterWriteWaitsFirstByte(t *testing.T) {
	c, s := pair(t, 3*progress)
	if _, err := c.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(2 * progress)
		_, _ = s.Write([]byte("a")) // a failure shows as the read's error
	}()
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("answer after 2 progress bounds, first-byte bound 3: %v", err)
	}
	// Once the answer flows, the progress bound applies again.
	start := time.Now()
	_, err := c.Read(make([]byte, 1))
	wantStall(t, err, "read")
	if d := time.Since(start); d > 2*progress {
		t.Fatalf("read in the answer failed after %v, want about %v", d, progress)
	}
}

func TestWriteStallsWhenPeerDoesNotRead(t *testing.T) {
	c, _ := pair(t, 0)
	chunk := make([]byte, 1<<20)
	start := time.Now()
	var err error
	for err == nil && time.Since(start) < 30*time.Second {
		_, err = c.Write(chunk)
	}
	wantStall(t, err, "write")
}

func TestIsTimeout(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{io.EOF, false},
		{context.Canceled, false},
		{context.DeadlineExceeded, true},
		{&StallError{Op: "read", Wait: time.Second, Err: os.ErrDeadlineExceeded}, true},
		{&net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, true},
	} {
		if got := IsTimeout(tc.err); got != tc.want {
			t.Errorf("IsTimeout(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A stalled upload fails its Write, not the Read pending beside it (which
// would close the connection under the Write).
func TestStalledWriteFailsBeforePendingRead(t *testing.T) {
	c, _ := pair(t, 0)
	read := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		read <- err
	}()
	chunk := make([]byte, 32<<10)
	var err error
	for start := time.Now(); err == nil && time.Since(start) < 30*time.Second; {
		_, err = c.Write(chunk)
	}
	wantStall(t, err, "write")
	select {
	case err := <-read:
		t.Fatalf("pending read ended before the write: %v", err)
	default:
	}
	_ = c.Close() // ends the pending read
	<-read
}
