package main

import (
	"context"
	"crypto/md5"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/oklog/ulid/v2"
	"golang.org/x/sync/errgroup"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/journal"
)

// bucket is the native API's bucket of every generated object.
const bucket = "scale-bench"

// epoch is the wall time of the first generated record, in milliseconds.
const epoch = 1_767_225_600_000 // 2026-01-01

// mergeWorkers is how many goroutines merge records, so that bbolt's
// Batch packs many merges into one transaction.
const mergeWorkers = 1000

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// object is the i-th generated object of node: a level-0 record with a
// ULID id, one per millisecond, and its body of a few bytes.
func object(node string, i int) (objstore.Record, []byte) {
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	ms := uint64(epoch + i)
	var id ulid.ULID
	_ = id.SetTime(ms) // ms is far below the ULID limit
	var entropy [10]byte
	for k := range entropy {
		entropy[k] = byte(rng.Uint32())
	}
	_ = id.SetEntropy(entropy[:]) // 10 bytes is what SetEntropy takes
	body := []byte(fmt.Sprintf("body %d\n", i))
	v := objstore.Version{HLC: ms << 16, Node: node}
	return objstore.Record{
		Key:         objstore.Key{Bucket: bucket, ID: id.String()},
		Name:        fmt.Sprintf("file-%d.txt", i),
		ContentType: "text/plain",
		Level:       objstore.LevelLocal,
		Sum:         objstore.Checksum{Size: int64(len(body)), CRC32C: crc32.Checksum(body, castagnoli), MD5: md5.Sum(body)},
		Version:     v,
		BodyVersion: v,
	}, body
}

// build makes a node's state and files dirs under dir holding n objects
// and returns the node's ID. Records go through the journal (without
// fsync); bodies are written straight into their shard under the name the
// disk store gives them, also without fsync: the bench restarts the node
// on a warm page cache, it does not crash it.
func build(ctx context.Context, dir string, n int, progress io.Writer) (string, error) {
	j, err := journal.Open(filepath.Join(dir, "state", "journal.db"), journal.Options{NoSync: true})
	if err != nil {
		return "", err
	}
	node := j.NodeID()
	files := filepath.Join(dir, "files")
	// Open claims the empty files dir for node, so the node's sweep may
	// remove orphans from it (a proven dir).
	blobs, err := disk.Open(files, disk.Config{NodeID: node})
	if err != nil {
		_ = j.Close() // the open error is the one to report
		return "", err
	}
	start := time.Now()
	err = writeObjects(ctx, j, blobs, files, n, func(done int) {
		fmt.Fprintf(progress, "  build %d: %d objects, %.1fs\n", n, done, time.Since(start).Seconds())
	})
	if cerr := blobs.Close(); err == nil {
		err = cerr
	}
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	return node, err
}

// writeObjects writes the bodies and merges the records of n objects, a
// step at a time, calling report after each step.
func writeObjects(ctx context.Context, j *journal.Store, blobs *disk.Store, files string, n int, report func(int)) error {
	const step = 100_000
	node := j.NodeID()
	for from := 0; from < n; from += step {
		to := min(from+step, n)
		g, gctx := errgroup.WithContext(ctx)
		for w := range min(mergeWorkers, to-from) {
			g.Go(func() error {
				for i := from + w; i < to; i += mergeWorkers {
					rec, body := object(node, i)
					if err := writeBody(files, blobs.Name(rec.Key, rec.BodyVersion), body); err != nil {
						return err
					}
					if _, _, err := j.Merge(gctx, rec); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		report(to)
	}
	return nil
}

// writeBody writes a body file called name into its shard under files.
func writeBody(files, name string, body []byte) error {
	shard := filepath.Join(files, name[:2])
	if err := os.MkdirAll(shard, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(shard, name), body, 0o644)
}
