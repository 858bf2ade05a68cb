package evict

import (
	"fmt"
	"runtime"
	"testing"
)

// bytesPerEntry measures the heap one tracked entry costs, its 26-byte
// key included, over n entries admitted to a cache big enough for all.
func bytesPerEntry(tb testing.TB, n int) float64 {
	tb.Helper()
	p := newPolicy(tb, int64(n)*10, Options{})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		p.Admit(fmt.Sprintf("01J9ZQ%020d", i), 1) // 26 bytes, as a ULID
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(p)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestBytesPerEntry holds the memory per entry under the 300-byte budget
// of a tracked object (issue 9), with room for the node's own record.
func TestBytesPerEntry(t *testing.T) {
	if got := bytesPerEntry(t, 200_000); got > 200 {
		t.Fatalf("%.0f bytes per entry, want ≤ 200", got)
	}
}

func BenchmarkBytesPerEntry(b *testing.B) {
	for range b.N {
		b.ReportMetric(bytesPerEntry(b, 1_000_000), "B/entry")
	}
}

func BenchmarkAccessHit(b *testing.B) {
	p := newPolicy(b, 1<<20, Options{})
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = fmt.Sprintf("01J9ZQ%020d", i)
		p.Admit(keys[i], 1)
	}
	b.ResetTimer()
	for i := range b.N {
		p.Access(keys[i&(len(keys)-1)])
	}
}

func BenchmarkAdmitEvict(b *testing.B) {
	p := newPolicy(b, 1<<16, Options{})
	keys := make([]string, 1<<20)
	for i := range keys {
		keys[i] = fmt.Sprintf("01J9ZQ%020d", i)
	}
	b.ResetTimer()
	for i := range b.N {
		k := keys[i&(len(keys)-1)]
		if !p.Access(k) {
			p.Admit(k, 1)
		}
	}
}
