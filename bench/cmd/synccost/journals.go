package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/oklog/ulid/v2"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
)

// Writers of the generated records: the base was written by three nodes;
// the records that differ by the two nodes of the pair.
var (
	baseNodes = []string{"01J9ZQ0000BASENODE0000000A", "01J9ZQ0000BASENODE0000000B", "01J9ZQ0000BASENODE0000000C"}
	nodeA     = "01J9ZQ00000000000000NODEA1"
	nodeB     = "01J9ZQ00000000000000NODEB1"
)

// epoch is the wall time of the first generated record, in milliseconds.
const epoch = 1_767_225_600_000 // 2026-01-01

// baseRecord is the i-th record of the shared base: a level-1 object with
// a ULID id, written one per millisecond.
func baseRecord(i int) objstore.Record {
	rng := rand.New(rand.NewPCG(uint64(i), 1))
	ms := uint64(epoch + i)
	id := ulid.ULID{}
	_ = id.SetTime(ms)                      // ms is far below the ULID limit
	_ = id.SetEntropy(randomBytes(rng, 10)) // 10 bytes is what SetEntropy takes
	v := objstore.Version{HLC: ms << 16, Node: baseNodes[i%len(baseNodes)]}
	sum := objstore.Checksum{Size: rng.Int64N(1 << 24), CRC32C: rng.Uint32()}
	copy(sum.MD5[:], randomBytes(rng, len(sum.MD5)))
	return objstore.Record{
		Key:         objstore.Key{Bucket: "bench", ID: id.String()},
		Name:        fmt.Sprintf("file-%d.bin", i),
		ContentType: "application/octet-stream",
		Level:       objstore.LevelS3,
		Sum:         sum,
		Version:     v,
		BodyVersion: v,
		InRemote:    true,
	}
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// newOnA is the i-th record only A holds: a new object of node A.
func newOnA(n, i int) objstore.Record {
	rec := baseRecord(n + i)
	rec.Version.Node, rec.BodyVersion.Node = nodeA, nodeA
	return rec
}

// newerOnB is the i-th of count overwrites only B holds: a newer version,
// by node B, of a base record, spread evenly over the base of n.
func newerOnB(n, count, i int) objstore.Record {
	rec := baseRecord(i * (n / count))
	rec.Version = objstore.Version{HLC: uint64(epoch+2*n+i) << 16, Node: nodeB}
	rec.BodyVersion = rec.Version
	rec.Sum.Size++
	return rec
}

// build writes a journal of n base records at path, printing progress.
func build(ctx context.Context, path string, n int, progress io.Writer) error {
	j, err := journal.Open(path, journal.Options{NoSync: true})
	if err != nil {
		return err
	}
	start := time.Now()
	const step = 100_000
	for from := 0; from < n; from += step {
		to := min(from+step, n)
		if err := mergeAll(ctx, j, buildWorkers, to-from, func(i int) objstore.Record { return baseRecord(from + i) }); err != nil {
			_ = j.Close() // the merge error is the one to report
			return err
		}
		fmt.Fprintf(progress, "  build %s: %d/%d records, %.1fs\n", filepath.Base(path), to, n, time.Since(start).Seconds())
	}
	return j.Close()
}

// diverge merges count records made by rec into the journal at path.
func diverge(ctx context.Context, path string, count int, rec func(int) objstore.Record) error {
	j, err := journal.Open(path, journal.Options{NoSync: true})
	if err != nil {
		return err
	}
	if err := mergeAll(ctx, j, buildWorkers, count, rec); err != nil {
		_ = j.Close() // the merge error is the one to report
		return err
	}
	return j.Close()
}

// copyFile copies the closed journal at src to dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }() // read-only
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close() // the copy error is the one to report
		return err
	}
	return out.Close()
}
