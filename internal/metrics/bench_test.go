package metrics

import (
	"net"
	"testing"
	"time"

	"sphere.software/objstore/internal/fastpath"
)

// BenchmarkFastHook is what metrics add to each hot GET the fast path
// answers: the hook's clock read, one counter add and one histogram
// observation, from as many goroutines as there are CPUs (they share the
// series, as a node's connections do).
func BenchmarkFastHook(b *testing.B) {
	m := New(Config{})
	hook := m.Fast("native", "get", "head")
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	a := fastpath.Answer{Head: []byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"), Body: []byte("x")}
	b.RunParallel(func(pb *testing.PB) {
		req := &fastpath.Request{} // a GET
		for pb.Next() {
			hook(addr, req, a, time.Now())
		}
	})
}
