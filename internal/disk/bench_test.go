package disk_test

import (
	"testing"
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
