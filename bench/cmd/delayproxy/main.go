// Command delayproxy puts distance between the benchmarks and an origin on
// loopback: it relays TCP connections to one upstream address and delivers
// every byte, in each direction, a fixed delay after it arrived, as a
// network link of that one-way latency and no bandwidth limit would. The
// bytes keep their order; a half-close travels with the same delay.
//
// It is for measuring a PUT through a node beside a direct PUT when the
// origin is as far away as S3 is from a datacenter, where an origin on
// loopback answers in well under a millisecond (BENCHMARKS.md). Both go
// through the same relay, so both pay the same distance.
//
//	delayproxy -listen 127.0.0.1:0 -upstream 127.0.0.1:7070 -delay 5ms
//
// It prints its address on the first line of stdout, and stops on SIGTERM
// or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	upstream := flag.String("upstream", "", "address to relay to, host:port")
	delay := flag.Duration("delay", 0, "one-way delay added to each direction")
	flag.Parse()
	if *upstream == "" || *delay < 0 {
		log.Fatal("delayproxy: -upstream host:port is required, and -delay must not be negative")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, *listen, *upstream, *delay); err != nil {
		log.Fatalf("delayproxy: %v", err)
	}
}

func run(ctx context.Context, listen, upstream string, delay time.Duration) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr())
	return serve(ctx, ln, upstream, delay)
}

// serve relays every connection ln accepts to upstream until ctx ends.
func serve(ctx context.Context, ln net.Listener, upstream string, delay time.Duration) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go relay(c.(*net.TCPConn), upstream, delay)
	}
}

// relay joins the client's connection c to a new one to upstream.
func relay(c *net.TCPConn, upstream string, delay time.Duration) {
	defer c.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		log.Printf("delayproxy: dial %s: %v", upstream, err)
		return
	}
	defer u.Close()
	done := make(chan struct{}, 2)
	go func() { pump(u.(*net.TCPConn), c, delay); done <- struct{}{} }()
	go func() { pump(c, u.(*net.TCPConn), delay); done <- struct{}{} }()
	<-done
	<-done
}

// segment is bytes read from one side, and when they are due on the other.
type segment struct {
	buf *[]byte // from bufs, back there once written
	n   int
	due time.Time
	eof bool // the reading side closed (or failed): half-close the other
}

// bufs holds the read buffers, so that the relay allocates nothing per
// read: its own garbage collections would delay bytes beyond the delay.
var bufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// inFlight bounds the segments on their way in one direction, as a link's
// window would: a reader that gets this far ahead waits.
const inFlight = 256

// pump copies src to dst, each read delivered delay after it was read.
func pump(dst, src *net.TCPConn, delay time.Duration) {
	q := make(chan segment, inFlight)
	go func() {
		for {
			buf := bufs.Get().(*[]byte)
			n, err := src.Read(*buf)
			now := time.Now()
			if n > 0 {
				q <- segment{buf: buf, n: n, due: now.Add(delay)}
			} else {
				bufs.Put(buf)
			}
			if err != nil {
				q <- segment{due: now.Add(delay), eof: true}
				close(q)
				return
			}
		}
	}()
	broken := false
	for s := range q {
		if wait := time.Until(s.due); wait > 0 && !broken {
			time.Sleep(wait)
		}
		switch {
		case broken:
			// Drain, so that the reader never blocks on a dead link.
			if s.buf != nil {
				bufs.Put(s.buf)
			}
		case s.eof:
			_ = dst.CloseWrite()
		default:
			_, err := dst.Write((*s.buf)[:s.n])
			bufs.Put(s.buf)
			if err != nil {
				broken = true
				if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
					log.Printf("delayproxy: write: %v", err)
				}
				_ = src.CloseRead()
			}
		}
	}
}
