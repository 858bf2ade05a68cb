package disk_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
)

// write commits data as the body of k at v, for goroutines.
func write(s *disk.Store, k objstore.Key, v objstore.Version, data []byte) error {
	w, err := s.Create(k, v)
	if err != nil {
		return err
	}
	defer func() { _ = w.Close() }() // after Commit, Close only releases
	if _, err := w.Write(data); err != nil {
		return err
	}
	_, err = w.Commit()
	return err
}

// onDisk adds up the bytes of the bodies in dir's shards.
func onDisk(tb testing.TB, dir string) (total int64, names map[string]bool) {
	tb.Helper()
	names = make(map[string]bool)
	shards, _ := filepath.Glob(filepath.Join(dir, "[0-9a-f][0-9a-f]"))
	for _, sh := range shards {
		err := filepath.WalkDir(sh, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			total += fi.Size()
			names[d.Name()] = true
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return total, names
}

// A Sweep that runs while the store serves keeps every body this process
// commits, removes the orphans it finds, and leaves the held bytes equal
// to the files on disk, however commits and removals interleave with it.
func TestSweepRacingWrites(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, 0)
	var recorded, orphans []string
	for i := range 300 {
		k := key(fmt.Sprintf("old-%d", i))
		put(t, s, k, ver(1), pattern(10+i%50, byte(i)))
		if i%3 == 0 {
			orphans = append(orphans, s.Name(k, ver(1)))
		} else {
			recorded = append(recorded, s.Name(k, ver(1)))
		}
	}
	s = openStore(t, dir, 0) // a restart: the orphans were left by a crash
	keep := keepOnly(recorded...)

	var wg sync.WaitGroup
	errs := make(chan error, 3)
	var fresh []string
	for i := range 200 {
		fresh = append(fresh, s.Name(key(fmt.Sprintf("new-%d", i)), ver(2)))
	}
	wg.Add(3)
	go func() { // new bodies, whose records are not journaled yet
		defer wg.Done()
		for i := range 200 {
			if err := write(s, key(fmt.Sprintf("new-%d", i)), ver(2), pattern(7+i%30, byte(i))); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() { // recorded bodies deleted and overwritten meanwhile
		defer wg.Done()
		for i := 1; i < 300; i += 3 {
			k := key(fmt.Sprintf("old-%d", i))
			if err := s.Remove(k, ver(1)); err != nil {
				errs <- err
				return
			}
			if err := write(s, k, ver(1), pattern(99, 1)); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		n, err := s.Sweep(t.Context(), keep)
		if err == nil && n != len(orphans) {
			err = fmt.Errorf("Sweep removed %d, want %d", n, len(orphans))
		}
		errs <- err
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	total, names := onDisk(t, dir)
	for _, n := range append(fresh, recorded...) {
		if !names[n] {
			t.Errorf("body %s was swept", n)
		}
	}
	for _, n := range orphans {
		if names[n] {
			t.Errorf("orphan %s was kept", n)
		}
	}
	if got := bodies(t, s); got != total {
		t.Fatalf("Bodies = %d, files on disk hold %d", got, total)
	}
}

// Until the held bytes are counted, a write that may not fit beside them
// waits for the count, then follows the quota; a count that ends
// unfinished makes such writes fail rather than wait.
func TestQuotaBeforeCount(t *testing.T) {
	const quota = 1000
	t.Run("waits for the count", func(t *testing.T) {
		dir := t.TempDir()
		put(t, openStore(t, dir, quota), key("a"), ver(1), pattern(600, 1))
		s := openStore(t, dir, quota)
		done := make(chan error, 1)
		go func() { done <- write(s, key("b"), ver(1), pattern(300, 2)) }()
		mustCount(t, s)
		if err := <-done; err != nil {
			t.Fatalf("write that fits after the count: %v", err)
		}
		err := write(s, key("c"), ver(1), pattern(200, 3))
		wantErr(t, err, objstore.ErrInsufficientStorage)
		if got := bodies(t, s); got != 900 {
			t.Fatalf("Bodies = %d, want 900", got)
		}
	})
	t.Run("a count that ends unfinished", func(t *testing.T) {
		dir := t.TempDir()
		put(t, openStore(t, dir, quota), key("a"), ver(1), pattern(600, 1))
		s := openStore(t, dir, quota)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.Count(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Count = %v, want canceled", err)
		}
		err := write(s, key("b"), ver(1), pattern(300, 2))
		wantErr(t, err, objstore.ErrInsufficientStorage)
		mustCount(t, s) // a later count finishes, and the write fits
		if err := write(s, key("b"), ver(1), pattern(300, 2)); err != nil {
			t.Fatal(err)
		}
	})
}

// A body committed before the first Sweep reaches its shard is kept, even
// in a store that had nothing to count at Open.
func TestSweepKeepsBodiesOfThisProcess(t *testing.T) {
	s := openStore(t, t.TempDir(), 0)
	put(t, s, key("new"), ver(1), []byte("new"))
	if n, err := s.Sweep(t.Context(), keepOnly()); err != nil || n != 0 {
		t.Fatalf("Sweep = %d, %v; want 0, nil", n, err)
	}
	if !s.Has(key("new"), ver(1)) {
		t.Fatal("the body committed by this process was swept")
	}
}
