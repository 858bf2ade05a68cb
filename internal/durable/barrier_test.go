package durable_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sphere.software/objstore/internal/durable"
)

// fakeSync is a file system sync that a test holds until it lets it go,
// counting the syncs started and the last one finished.
type fakeSync struct {
	started  atomic.Int64
	finished atomic.Int64 // the number of the last sync finished
	release  chan error   // each sync takes its result from here
}

func newFakeSync() *fakeSync { return &fakeSync{release: make(chan error)} }

func (f *fakeSync) sync() error {
	n := f.started.Add(1)
	err := <-f.release
	f.finished.Store(n)
	return err
}

// waitStarted waits until n syncs have started.
func (f *fakeSync) waitStarted(t *testing.T, n int64) {
	t.Helper()
	waitFor(t, func() bool { return f.started.Load() >= n })
}

// waitWaiters waits until n writers wait for b's next sync.
func waitWaiters(t *testing.T, b *durable.Barrier, n int) {
	t.Helper()
	waitFor(t, func() bool { return durable.BarrierWaiting(b) == n })
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBarrierGroupsWritersBehindTheRunningSync(t *testing.T) {
	fs := newFakeSync()
	b := durable.NewBarrierFunc(fs.sync)
	results := make(chan error, 10)
	// The first writer leads sync 1, which holds.
	go func() { results <- b.Sync() }()
	fs.waitStarted(t, 1)
	// Nine writers come while sync 1 runs: it may have started before their
	// writes, so none of them may return with it.
	var wg sync.WaitGroup
	var early atomic.Int64
	for range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entry := fs.started.Load()
			err := b.Sync()
			if fs.finished.Load() <= entry {
				early.Add(1) // returned before a sync that started after it
			}
			results <- err
		}()
	}
	waitWaiters(t, b, 9)
	fs.release <- nil // sync 1 ends; its leader returns, one sync starts for the nine
	if err := <-results; err != nil {
		t.Fatalf("leader: %v", err)
	}
	fs.waitStarted(t, 2)
	fs.release <- nil
	wg.Wait()
	for range 9 {
		if err := <-results; err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
	if got := fs.started.Load(); got != 2 {
		t.Fatalf("%d syncs for ten writers, want 2: one for the first, one shared by the nine", got)
	}
	if early.Load() != 0 {
		t.Fatalf("%d writers returned on a sync that started before them", early.Load())
	}
}

func TestBarrierErrorGoesToItsRoundOnly(t *testing.T) {
	fs := newFakeSync()
	b := durable.NewBarrierFunc(fs.sync)
	first := make(chan error, 1)
	go func() { first <- b.Sync() }()
	fs.waitStarted(t, 1)
	second := make(chan error, 1)
	go func() { second <- b.Sync() }()
	waitWaiters(t, b, 1)
	boom := errors.New("EIO")
	fs.release <- boom
	if err := <-first; !errors.Is(err, boom) {
		t.Fatalf("writer of the failed sync got %v, want %v", err, boom)
	}
	fs.waitStarted(t, 2)
	fs.release <- nil
	if err := <-second; err != nil {
		t.Fatalf("writer of the next sync got %v, want nil", err)
	}
	// A failed sync is not remembered: the next writer's own sync decides.
	go func() { fs.release <- nil }()
	if err := b.Sync(); err != nil {
		t.Fatalf("later writer: %v", err)
	}
}

func TestBarrierOnThisFileSystem(t *testing.T) {
	dir := t.TempDir()
	b, err := durable.OpenBarrier(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b == nil {
		t.Skip("no syncfs that reports errors on this system: callers fsync each file")
	}
	defer b.Close()
	path, _, err := commitGroup(t, dir, b, "group-committed")
	if err != nil {
		t.Fatalf("CommitGroup: %v", err)
	}
	if got := readFile(t, path); got != "group-committed" {
		t.Fatalf("read %q", got)
	}
}

// commitGroup writes body to a temp file in dir and commits it with
// CommitGroup(b) as dir/body; it returns that path, the file (closed when
// the test ends) and CommitGroup's error.
func commitGroup(t *testing.T, dir string, b *durable.Barrier, body string) (string, *durable.File, error) {
	t.Helper()
	f, err := durable.CreateTemp(dir, "body-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	if _, err := f.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "body")
	return path, f, f.CommitGroup(b, func(rename func(string) error) error { return rename(path) })
}

func TestCommitGroupFailedSyncReportsRenamed(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("EIO")
	b := durable.NewBarrierFunc(func() error { return boom })
	path, f, err := commitGroup(t, dir, b, "")
	if !errors.Is(err, boom) {
		t.Fatalf("CommitGroup = %v, want the sync's error", err)
	}
	// The file is at path but not durable: the caller must take it away.
	if !f.Renamed() {
		t.Fatal("Renamed = false after the rename")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestCommitGroupWithoutBarrierFsyncsTheFile(t *testing.T) {
	dir := t.TempDir()
	path, _, err := commitGroup(t, dir, nil, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "x" {
		t.Fatalf("read %q", got)
	}
}
