package multipart_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"sphere.software/objstore/internal/multipart"
)

func TestConcurrentPutPart(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, newClock())
	id := create(t, s, "bkt", "k").ID
	const distinct, same, contested = 32, 8, 100
	candidates := map[[32]byte]bool{}
	for w := range same {
		candidates[sha256.Sum256(randomBytes(uint64(1000+w), 256<<10))] = true
	}
	var wg sync.WaitGroup
	for n := 1; n <= distinct; n++ {
		wg.Go(func() { put(t, s, id, n, randomBytes(uint64(n), 64<<10)) })
	}
	for w := range same {
		wg.Go(func() { put(t, s, id, contested, randomBytes(uint64(1000+w), 256<<10)) })
	}
	// Readers alongside the writers, for the race detector.
	for range 4 {
		wg.Go(func() { churn(t, s, id) })
	}
	wg.Wait()

	parts, _, err := s.ListParts(id, 0, 0)
	if err != nil || len(parts) != distinct+1 {
		t.Fatalf("ListParts = %d parts, %v", len(parts), err)
	}
	last := parts[len(parts)-1]
	_, body := readAll(t, s, id, etagsOf(last))
	if !candidates[sha256.Sum256(body)] || last.ETag != etag(body) {
		t.Fatal("the contested part is not one of the bodies written whole")
	}
	for _, p := range parts[:distinct] {
		if p.ETag != etag(randomBytes(uint64(p.Number), 64<<10)) {
			t.Fatalf("part %d has ETag %s", p.Number, p.ETag)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, id))
	if len(entries) != distinct+2 { // the parts and info.json: replaced parts are gone
		t.Fatalf("upload dir holds %d entries, want %d", len(entries), distinct+2)
	}
	assertEmpty(t, filepath.Join(dir, "tmp"))
}

// churn lists and assembles the upload id while others write it.
func churn(t *testing.T, s *multipart.Store, id string) {
	for range 20 {
		parts, _, err := s.ListParts(id, 0, 0)
		if err != nil {
			t.Error(err)
			return
		}
		if len(parts) == 0 {
			continue
		}
		_, r, err := s.Assemble(id, etagsOf(parts[len(parts)-1]))
		if errors.Is(err, multipart.ErrInvalidPart) {
			continue // replaced since the listing
		}
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			t.Error(err) // a replacement meanwhile must not break the read
		}
		if err := r.Close(); err != nil {
			t.Error(err)
		}
		_, _, _ = s.Usage()
	}
}

// gate is a body that sends its first byte, then blocks until opened.
type gate struct {
	started chan struct{}
	open    chan struct{}
	sent    bool
}

func newGate() *gate { return &gate{started: make(chan struct{}), open: make(chan struct{})} }

func (g *gate) Read(p []byte) (int, error) {
	if !g.sent {
		g.sent = true
		close(g.started)
		p[0] = 'x'
		return 1, nil
	}
	<-g.open
	return 0, io.EOF
}

func TestPutPartRunsInParallel(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock())
	id := create(t, s, "bkt", "k").ID
	g := newGate()
	done := make(chan error, 1)
	go func() {
		_, err := s.PutPart(context.Background(), id, 1, 1, g)
		done <- err
	}()
	<-g.started
	// While part 1 is being written, other parts, the same number,
	// listings and assemblies of the same upload go ahead.
	put(t, s, id, 2, []byte("two"))
	p1 := put(t, s, id, 1, []byte("y"))
	if _, body := readAll(t, s, id, etagsOf(p1)); string(body) != "y" {
		t.Fatalf("body %q", body)
	}
	close(g.open)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The write that finished last replaced the earlier one.
	parts, _, _ := s.ListParts(id, 0, 1)
	if parts[0].ETag != etag([]byte("x")) {
		t.Fatalf("part 1 = %+v, want the later write", parts[0])
	}
}

func TestRemoveDuringPutPart(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, newClock())
	id := create(t, s, "bkt", "k").ID
	g := newGate()
	done := make(chan error, 1)
	go func() {
		_, err := s.PutPart(context.Background(), id, 1, -1, g)
		done <- err
	}()
	<-g.started
	if err := s.Remove(id); err != nil {
		t.Fatal(err)
	}
	close(g.open)
	if err := <-done; !errors.Is(err, multipart.ErrNoSuchUpload) {
		t.Fatalf("PutPart into a removed upload: %v", err)
	}
	assertOnly(t, dir, "tmp")
	assertEmpty(t, filepath.Join(dir, "tmp"))
}

func TestAssemblySnapshot(t *testing.T) {
	for _, remove := range []bool{false, true} {
		name := map[bool]string{false: "replace", true: "replace and remove"}[remove]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, newClock())
			id := create(t, s, "bkt", "k").ID
			one, two := randomBytes(1, 3<<20), randomBytes(2, 5000)
			want := etagsOf(put(t, s, id, 1, one), put(t, s, id, 2, two))
			_, r, err := s.Assemble(id, want)
			if err != nil {
				t.Fatal(err)
			}
			head := make([]byte, 10)
			if _, err := io.ReadFull(r, head); err != nil {
				t.Fatal(err)
			}
			put(t, s, id, 1, []byte("replaced"))
			put(t, s, id, 2, []byte("replaced"))
			if remove {
				if err := s.Remove(id); err != nil {
					t.Fatal(err)
				}
			}
			rest, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(append(head, rest...), append(one, two...)) {
				t.Fatal("the assembly did not read the parts it validated")
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			assertEmpty(t, filepath.Join(dir, "tmp"))
			if remove {
				assertOnly(t, dir, "tmp")
			} else {
				entries, _ := os.ReadDir(filepath.Join(dir, id))
				if len(entries) != 3 {
					t.Fatalf("superseded parts left after Close: %v", entries)
				}
			}
		})
	}
}
