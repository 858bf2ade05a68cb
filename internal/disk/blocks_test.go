package disk_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
)

const bs = disk.BlockSize

// flip inverts one bit of the byte at off in the file at path, as rot would.
func flip(tb testing.TB, path string, off int64) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		tb.Fatal(err)
	}
	b[0] ^= 0x10
	if _, err := f.WriteAt(b, off); err != nil {
		tb.Fatal(err)
	}
}

// corruptLog records what a store reports through SetOnCorrupt.
type corruptLog struct {
	mu   sync.Mutex
	keys []objstore.Key
}

func watch(s *disk.Store) *corruptLog {
	l := &corruptLog{}
	s.SetOnCorrupt(func(k objstore.Key, _ objstore.Version, cause error) {
		if !errors.Is(cause, objstore.ErrChecksum) {
			panic("reported a cause that is not a checksum mismatch: " + cause.Error())
		}
		l.mu.Lock()
		l.keys = append(l.keys, k)
		l.mu.Unlock()
	})
	return l
}

func (l *corruptLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

func TestTrailerFormat(t *testing.T) {
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	for _, size := range []int{0, 1, 4096, bs, bs + 1, 3*bs + bs/2, 10 * bs} {
		dir := t.TempDir()
		s := openStore(t, dir, 0)
		k, v := key("obj"), ver(1)
		data := pattern(size, 3)
		put(t, s, k, v, data)
		file, err := os.ReadFile(bodyFile(t, dir, s, k, v))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(file[:size], data) {
			t.Fatalf("size %d: the file does not start with the body", size)
		}
		trailer := file[size:]
		if size <= bs {
			if len(trailer) != 0 {
				t.Fatalf("size %d: %d trailer bytes after a body of one block", size, len(trailer))
			}
			continue
		}
		n := (size + bs - 1) / bs
		if len(trailer) != 4*n+16 || int64(len(file)) != disk.FileSize(int64(size)) {
			t.Fatalf("size %d: trailer of %d bytes, want %d", size, len(trailer), 4*n+16)
		}
		for i := range n {
			want := crc32.Checksum(data[i*bs:min((i+1)*bs, size)], castagnoli)
			if got := binary.LittleEndian.Uint32(trailer[4*i:]); got != want {
				t.Fatalf("size %d: block %d sum %08x, want %08x", size, i, got, want)
			}
		}
		foot := trailer[4*n:]
		if string(foot[:4]) != "OSB1" || binary.LittleEndian.Uint32(foot[4:]) != bs ||
			binary.LittleEndian.Uint32(foot[8:]) != uint32(n) ||
			binary.LittleEndian.Uint32(foot[12:]) != crc32.Checksum(trailer[:len(trailer)-4], castagnoli) {
			t.Fatalf("size %d: bad footer %x", size, foot)
		}
	}
}

// rotted writes a body of 10 blocks and a half, reads it once (so it is
// verified in the old sense), then flips a byte in block 5.
func rotted(t *testing.T, oldFormat bool) (s *disk.Store, path string, sum objstore.Checksum, data []byte, log *corruptLog) {
	t.Helper()
	dir := t.TempDir()
	k, v := key("obj"), ver(1)
	data = pattern(10*bs+bs/2, 9)
	sum = put(t, openStore(t, dir, 0), k, v, data)
	path = bodyFile(t, dir, openStore(t, dir, 0), k, v)
	if oldFormat {
		// An older objstore wrote the body alone.
		if err := os.Truncate(path, int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	s = openStore(t, dir, 0) // a restart: Open verifies the body whole once
	log = watch(s)
	mustEqual(t, get(t, s, k, v, sum), data)
	flip(t, path, 5*bs+123)
	return s, path, sum, data, log
}

func TestBlockChecks(t *testing.T) {
	for _, format := range []struct {
		name string
		old  bool
	}{{"trailer", false}, {"old format", true}} {
		t.Run(format.name, func(t *testing.T) {
			t.Run("range before the rotted block is served", func(t *testing.T) {
				s, path, sum, data, log := rotted(t, format.old)
				b := openObj(t, s, sum)
				defer b.Close()
				var out bytes.Buffer
				if _, err := b.Seek(2*bs+7, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				if n, err := b.WriteN(&out, 3*bs-7); err != nil || n != 3*bs-7 {
					t.Fatalf("WriteN = %d, %v", n, err)
				}
				mustEqual(t, out.Bytes(), data[2*bs+7:5*bs])
				// and after it
				got := make([]byte, bs+bs/2)
				if _, err := b.ReadAt(got, 9*bs); err != nil {
					t.Fatalf("ReadAt after the rotted block: %v", err)
				}
				mustEqual(t, got, data[9*bs:])
				if _, err := os.Stat(path); err != nil || log.count() != 0 {
					t.Fatalf("a sound range dropped the body (%v) or reported it (%d)", err, log.count())
				}
			})
			t.Run("full copy stops before the rotted block", func(t *testing.T) {
				s, path, sum, data, log := rotted(t, format.old)
				b := openObj(t, s, sum)
				defer b.Close()
				var out bytes.Buffer
				n, err := b.WriteTo(&out)
				wantErr(t, err, objstore.ErrChecksum)
				if n > 5*bs || !bytes.Equal(out.Bytes(), data[:n]) {
					t.Fatalf("wrote %d bytes: past the rotted block or not the body's", n)
				}
				wantErr(t, b.Err(), objstore.ErrChecksum)
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Fatalf("rotted body still there: %v", err)
				}
				if log.count() != 1 {
					t.Fatalf("%d reports, want 1", log.count())
				}
				_, err = s.Open(key("obj"), ver(1), sum)
				wantErr(t, err, objstore.ErrNotFound)
			})
			t.Run("small reads stop before the rotted block", func(t *testing.T) {
				s, _, sum, data, _ := rotted(t, format.old)
				b := openObj(t, s, sum)
				defer b.Close()
				var out bytes.Buffer
				_, err := io.CopyBuffer(onlyWriter{&out}, onlyReader{b}, make([]byte, 1000))
				wantErr(t, err, objstore.ErrChecksum)
				if out.Len() > 5*bs || !bytes.Equal(out.Bytes(), data[:out.Len()]) {
					t.Fatalf("read %d bytes: past the rotted block or not the body's", out.Len())
				}
			})
			t.Run("range over the rotted byte fails", func(t *testing.T) {
				s, _, sum, _, log := rotted(t, format.old)
				b := openObj(t, s, sum)
				defer b.Close()
				got := make([]byte, 10)
				_, err := b.ReadAt(got, 5*bs+120)
				wantErr(t, err, objstore.ErrChecksum)
				if log.count() != 1 {
					t.Fatalf("%d reports, want 1", log.count())
				}
			})
		})
	}
}

// TestRangesMatch reads random ranges of a sound body every way a Body
// offers and compares them with the body.
func TestRangesMatch(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, 0)
	data := pattern(7*bs+333, 4)
	sum := put(t, s, key("obj"), ver(1), data)
	b := openObj(t, s, sum)
	defer b.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		off := rng.Int64N(int64(len(data)))
		n := rng.Int64N(int64(len(data))-off) + 1
		var out bytes.Buffer
		if _, err := b.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := b.WriteN(&out, n); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, out.Bytes(), data[off:off+n])
		got := make([]byte, n)
		if _, err := b.ReadAt(got, off); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, got, data[off:off+n])
		if _, err := b.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		buf := make([]byte, rng.IntN(3*bs)+1)
		for int64(len(got)) < n {
			k, err := b.Read(buf[:min(int64(len(buf)), n-int64(len(got)))])
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, buf[:k]...)
		}
		mustEqual(t, got, data[off:off+n])
	}
}

// TestTrailerRot: a body whose trailer rotted is still served, checked
// against sums computed from it once it passed its whole CRC-32C.
func TestTrailerRot(t *testing.T) {
	dir := t.TempDir()
	k, v := key("obj"), ver(1)
	data := pattern(4*bs, 6)
	sum := put(t, openStore(t, dir, 0), k, v, data)
	path := bodyFile(t, dir, openStore(t, dir, 0), k, v)
	flip(t, path, int64(len(data))+5) // in the sum of block 1
	s := openStore(t, dir, 0)
	log := watch(s)
	mustEqual(t, get(t, s, k, v, sum), data)
	flip(t, path, 2*bs) // now the body itself
	b := openObj(t, s, sum)
	defer b.Close()
	_, err := io.ReadAll(b)
	wantErr(t, err, objstore.ErrChecksum)
	if log.count() != 1 {
		t.Fatalf("%d reports, want 1", log.count())
	}
}

// TestCorruptAtOpenReported: a body that fails its whole check at Open is
// reported as well as removed.
func TestCorruptAtOpenReported(t *testing.T) {
	dir := t.TempDir()
	k, v := key("obj"), ver(1)
	sum := put(t, openStore(t, dir, 0), k, v, pattern(3*bs, 1))
	flip(t, bodyFile(t, dir, openStore(t, dir, 0), k, v), 10)
	s := openStore(t, dir, 0)
	log := watch(s)
	_, err := s.Open(k, v, sum)
	wantErr(t, err, objstore.ErrChecksum)
	if log.count() != 1 {
		t.Fatalf("%d reports, want 1", log.count())
	}
}

func openObj(tb testing.TB, s *disk.Store, sum objstore.Checksum) *disk.Body {
	tb.Helper()
	b, err := s.Open(key("obj"), ver(1), sum)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return b
}

// onlyReader and onlyWriter hide WriteTo and ReadFrom, so io.CopyBuffer
// uses its buffer.
type onlyReader struct{ io.Reader }

type onlyWriter struct{ io.Writer }
