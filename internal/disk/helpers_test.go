package disk_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/node"
)

// Compile-time checks. Store.Create returns the concrete *Writer, so the
// Blobs check goes through the one-method adapter that the wiring needs.
var (
	_ node.BodyWriter                          = (*disk.Writer)(nil)
	_ node.BlobStore[*disk.Writer, *disk.Body] = (*disk.Store)(nil)
	_ node.BodyReader                          = (*disk.Body)(nil)
)

const testNode = "01HZX3K9V7Q2M8N4P6R1S5T0WY"

func ver(hlc uint64) objstore.Version { return objstore.Version{HLC: hlc, Node: testNode} }

func key(id string) objstore.Key { return objstore.Key{Bucket: "bucket", ID: id} }

// open holds the store openStore last opened in each directory.
var open sync.Map // dir → *disk.Store

// openStore opens a store in dir, owned by testNode, with a discarding
// logger and closes it at the end of the test. A store opened in dir
// before is closed first, as a restart would: dir is locked while open.
func openStore(tb testing.TB, dir string, quota int64) *disk.Store {
	tb.Helper()
	if prev, ok := open.LoadAndDelete(dir); ok {
		if err := prev.(*disk.Store).Close(); err != nil {
			tb.Fatal(err)
		}
	}
	s, err := disk.Open(dir, disk.Config{Quota: quota, NodeID: testNode, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	open.Store(dir, s)
	tb.Cleanup(func() {
		open.CompareAndDelete(dir, s)
		_ = s.Close() // closing twice is fine; the first Close's error was checked
	})
	return s
}

// put writes and commits a body and returns its checksum.
func put(tb testing.TB, s *disk.Store, k objstore.Key, v objstore.Version, data []byte) objstore.Checksum {
	tb.Helper()
	w, err := s.Create(k, v)
	if err != nil {
		tb.Fatalf("Create: %v", err)
	}
	defer func() {
		if err := w.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	}()
	if _, err := w.Write(data); err != nil {
		tb.Fatalf("Write: %v", err)
	}
	sum, err := w.Commit()
	if err != nil {
		tb.Fatalf("Commit: %v", err)
	}
	return sum
}

// get opens a body and returns its bytes.
func get(tb testing.TB, s *disk.Store, k objstore.Key, v objstore.Version, sum objstore.Checksum) []byte {
	tb.Helper()
	f, err := s.Open(k, v, sum)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return b
}

// wantErr fails unless err wraps target.
func wantErr(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("err = %v, want one wrapping %v", err, target)
	}
}

// bodyFile is the path of a committed body, found by its name.
func bodyFile(tb testing.TB, dir string, s *disk.Store, k objstore.Key, v objstore.Version) string {
	tb.Helper()
	name := s.Name(k, v)
	return filepath.Join(dir, name[:2], name)
}

// files lists the regular files in the subdirectories of dir (bodies and
// temp files), relative to it.
func files(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if filepath.Dir(rel) == "." { // lock and owner, not bodies
			return err
		}
		out = append(out, rel)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// tmpFiles lists what dir/tmp holds: the files in its spread
// directories (tmp/0 to tmp/f) and anything else in it.
func tmpFiles(tb testing.TB, dir string) []os.DirEntry {
	tb.Helper()
	tmp := filepath.Join(dir, "tmp")
	entries, err := os.ReadDir(tmp)
	if err != nil {
		tb.Fatal(err)
	}
	var out []os.DirEntry
	for _, e := range entries {
		if !e.IsDir() || len(e.Name()) != 1 || !strings.Contains("0123456789abcdef", e.Name()) {
			out = append(out, e)
			continue
		}
		sub, err := os.ReadDir(filepath.Join(tmp, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, sub...)
	}
	return out
}

// bodies is the Bodies figure of Usage.
func bodies(tb testing.TB, s *disk.Store) int64 {
	tb.Helper()
	u, err := s.Usage()
	if err != nil {
		tb.Fatalf("Usage: %v", err)
	}
	return u.Bodies
}

// pattern returns n bytes that differ with seed.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

// mustSum fails unless sum is the checksum of data.
func mustSum(tb testing.TB, sum objstore.Checksum, data []byte) {
	tb.Helper()
	want := objstore.Checksum{
		Size:   int64(len(data)),
		CRC32C: crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)),
		MD5:    md5.Sum(data),
	}
	if sum != want {
		tb.Fatalf("sum = %+v, want %+v", sum, want)
	}
}

func mustEqual(tb testing.TB, got, want []byte) {
	tb.Helper()
	if !bytes.Equal(got, want) {
		tb.Fatalf("got %d bytes, want %d bytes (contents differ)", len(got), len(want))
	}
}

// mustCount counts the bodies s held at Open.
func mustCount(tb testing.TB, s *disk.Store) {
	tb.Helper()
	if err := s.Count(context.Background()); err != nil {
		tb.Fatalf("Count: %v", err)
	}
}
