package disk_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWrite64MiB writes 64 MiB bodies in 1 MiB Writes: "commit"
// includes the fsyncs and rename, "discard" is the hashing write path alone.
func BenchmarkWrite64MiB(b *testing.B) {
	const size, chunk = 64 << 20, 1 << 20
	buf := pattern(chunk, 1)
	for _, commit := range []bool{true, false} {
		name := "discard"
		if commit {
			name = "commit"
		}
		b.Run(name, func(b *testing.B) {
			s := openStore(b, b.TempDir(), 0)
			b.SetBytes(size)
			b.ReportAllocs()
			i := uint64(0)
			for b.Loop() {
				i++
				w, err := s.Create(key("bench"), ver(i))
				if err != nil {
					b.Fatal(err)
				}
				for range size / chunk {
					if _, err := w.Write(buf); err != nil {
						b.Fatal(err)
					}
				}
				if commit {
					if _, err := w.Commit(); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				if err := s.Remove(key("bench"), ver(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkServe compares the two ways to send a body to a loopback TCP
// connection (drained by another goroutine): "sendfile" is io.CopyN from
// the plain file, which Go turns into sendfile(2) and which checks
// nothing, as objstore served bodies before block checksums; "verified" is
// Body.WriteTo, which reads each chunk into a buffer, checks its blocks'
// CRC-32C there and writes it from there. The difference is the cost of
// never sending an unchecked byte. cpu-µs/op is the process's CPU time
// (user + system, the draining reader's included, which is the same for
// both) per body: on a busy machine it says more than the wall time.
func BenchmarkServe(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 20} {
		dir := b.TempDir()
		s := openStore(b, dir, 0)
		sum := put(b, s, key("obj"), ver(1), pattern(size, 7))
		path := bodyFile(b, dir, s, key("obj"), ver(1))
		label := fmt.Sprintf("%dKiB", size>>10)
		b.Run(label+"/sendfile", func(b *testing.B) {
			conn := drained(b)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			defer cpuPerOp(b)()
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyN(conn, f, int64(size)); err != nil {
					b.Fatal(err)
				}
				_ = f.Close() // read-only
			}
		})
		b.Run(label+"/verified", func(b *testing.B) {
			conn := drained(b)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			defer cpuPerOp(b)()
			for b.Loop() {
				body, err := s.Open(key("obj"), ver(1), sum)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := body.WriteTo(conn); err != nil {
					b.Fatal(err)
				}
				_ = body.Close() // read-only
			}
		})
	}
}

// drained returns the sending end of a loopback TCP connection whose other
// end a goroutine reads and discards until the benchmark ends.
func drained(tb testing.TB) *net.TCPConn {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 256<<10)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = conn.Close() // ends the reader
		<-done
	})
	return conn.(*net.TCPConn)
}

// cpuPerOp starts counting the process's CPU time; the function it returns
// reports it per iteration as cpu-µs/op.
func cpuPerOp(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		b.ReportMetric(float64((cpuTime(b)-start).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
