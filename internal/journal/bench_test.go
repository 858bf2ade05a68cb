package journal_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
)

// BenchmarkMergeParallel measures group-committed Merges of new keys with
// fsync, as in production, at several numbers of concurrent writers.
func BenchmarkMergeParallel(b *testing.B) {
	benchMergeParallel(b, journal.Options{})
}

// BenchmarkMergeParallelNoSync is BenchmarkMergeParallel without fsync: the
// cost of bbolt itself.
func BenchmarkMergeParallelNoSync(b *testing.B) {
	benchMergeParallel(b, journal.Options{NoSync: true})
}

func benchMergeParallel(b *testing.B, opts journal.Options) {
	for _, perCPU := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%dxGOMAXPROCS", perCPU), func(b *testing.B) {
			s := openAt(b, filepath.Join(b.TempDir(), "journal.db"), opts)
			var n atomic.Uint64
			b.SetParallelism(perCPU)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, _, err := s.Merge(b.Context(), live("bench", keyName(int(i)), i, "n1", 1)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "merges/s")
		})
	}
}

// BenchmarkMergeSerial is one writer: each Merge pays the batch delay and a
// commit of its own.
func BenchmarkMergeSerial(b *testing.B) {
	s := openAt(b, filepath.Join(b.TempDir(), "journal.db"), journal.Options{})
	var i uint64
	for b.Loop() {
		i++
		if _, _, err := s.Merge(b.Context(), live("bench", keyName(int(i)), i, "n1", 1)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "merges/s")
}

// BenchmarkDigests measures what anti-entropy reads, on a store of 50,000
// records: all group digests, the leaf digests of one group and of all
// groups, and the records of one leaf.
func BenchmarkDigests(b *testing.B) {
	s := openAt(b, filepath.Join(b.TempDir(), "journal.db"), journal.Options{NoSync: true})
	recs := numbered(50000)
	mergeAll(b, s, recs)
	leaf := objstore.LeafOf(recs[0].Key)
	b.Run("GroupDigests", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GroupDigests(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, n := range []int{1, objstore.DigestGroups} {
		b.Run(fmt.Sprintf("LeafDigests/groups=%d", n), func(b *testing.B) {
			groups := allGroups[:n]
			for b.Loop() {
				if _, err := s.LeafDigests(b.Context(), groups); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("LeafRecords/leaves=1", func(b *testing.B) {
		for b.Loop() {
			if err := s.LeafRecords(b.Context(), []uint16{leaf}, func(objstore.Record) bool { return true }); err != nil {
				b.Fatal(err)
			}
		}
	})
}
