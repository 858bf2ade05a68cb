package node

import (
	"testing"

	"sphere.software/objstore"
)

// BenchmarkGetHot is the hot GET's node step: a body held in memory, read
// by parallel clients. Savings counting must not make it slower.
func BenchmarkGetHot(b *testing.B) {
	n := newTestNode(b, 0)
	key := newKey()
	put(b, n, key, randomBody(4096), objstore.LevelLocal)
	if _, _, err := read(b, n, key, false); err != nil { // to memory
		b.Fatal(err)
	}
	if _, ok := n.GetHot(key); !ok {
		b.Fatal("the body is not in memory")
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := n.GetHot(key); !ok {
				b.Fatal("miss")
			}
		}
	})
}

// BenchmarkHotCacheGet is the memory cache's hit alone, by parallel
// readers over a set of held keys: it must take no lock.
func BenchmarkHotCacheGet(b *testing.B) {
	c := newHotCache(64 << 20)
	keys := make([]objstore.Key, 1024)
	for i := range keys {
		keys[i] = newKey()
		c.put(c.ticket(keys[i]), objstore.Record{Key: keys[i]}, make([]byte, 1024), "")
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := c.get(keys[i%len(keys)]); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
}
