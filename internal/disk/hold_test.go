package disk_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"

	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/durable"
)

// A held body (Writer.Hold) reads back as it is written, never past what
// was written, from a buffer that held other bytes before; its commit, or
// a Write that outgrows the buffer, puts it in the file whole, and it
// reads back from the store with its checksums.
func TestHold(t *testing.T) {
	const large = 1<<20 + 7
	tests := []struct {
		name  string
		size  int  // the body's
		buf   int  // the held buffer's size
		chunk int  // bytes per Write
		sync  bool // Commit, else CommitCopy
	}{
		{"held whole, copy", large, large, 64 << 10, false},
		{"held whole, commit", large, large, 64 << 10, true},
		{"held whole, ragged writes", large, large + 5000, 100_000, false},
		{"outgrows its buffer", large, 300_000, 64 << 10, false},
		{"small, under the group commit", 10_000, 10_000, 999, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, t.TempDir(), 0)
			k, v := key("held"), ver(1)
			data := pattern(tt.size, 5)
			buf := durable.AlignedBytes(tt.buf)
			for i := range buf {
				buf[i] = 0xAA // another body's bytes, never to be read
			}
			w, err := s.Create(k, v)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			w.Hold(buf)
			for off := 0; off < len(data); off += tt.chunk {
				end := min(off+tt.chunk, len(data))
				if _, err := w.Write(data[off:end]); err != nil {
					t.Fatal(err)
				}
				// What was written reads back; a read past it stops there.
				got := make([]byte, end+100)
				k, err := w.ReadAt(got, 0)
				if k != end || !errors.Is(err, io.EOF) || !bytes.Equal(got[:k], data[:end]) {
					t.Fatalf("ReadAt after %d bytes written: %d bytes, %v, same bytes %v", end, k, err, bytes.Equal(got[:k], data[:k]))
				}
			}
			commit := w.CommitCopy
			if tt.sync {
				commit = w.Commit
			}
			sum, err := commit()
			if err != nil {
				t.Fatal(err)
			}
			mustSum(t, sum, data)
			// The upload may still be reading the body's tail after the
			// commit: it reads the body, not the trailer.
			tail := make([]byte, 200)
			if k, err := w.ReadAt(tail, int64(len(data)-100)); k != 100 || !errors.Is(err, io.EOF) || !bytes.Equal(tail[:k], data[len(data)-100:]) {
				t.Fatalf("ReadAt of the tail after the commit: %d bytes, %v", k, err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			// A read after Close (an HTTP client's, late) no longer sees the
			// buffer, which may hold another body by then.
			if k, err := w.ReadAt(tail, 0); k != 0 || !errors.Is(err, fs.ErrClosed) {
				t.Fatalf("ReadAt after Close: %d bytes, %v; want fs.ErrClosed", k, err)
			}
			mustEqual(t, get(t, s, k, v, sum), data)
			if got, want := bodies(t, s), disk.FileSize(int64(len(data))); got != want {
				t.Fatalf("Bodies = %d, want %d", got, want)
			}
		})
	}
}

// Hold after the first Write changes nothing: the body goes on in the
// file.
func TestHoldAfterAWrite(t *testing.T) {
	s := openStore(t, t.TempDir(), 0)
	k, v := key("late"), ver(1)
	data := pattern(300_000, 9)
	w, err := s.Create(k, v)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write(data[:1000]); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(data))
	w.Hold(buf)
	if _, err := w.Write(data[1000:]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, make([]byte, len(data))) {
		t.Fatal("a Hold after the first Write took bytes into its buffer")
	}
	sum, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, get(t, s, k, v, sum), data)
}
