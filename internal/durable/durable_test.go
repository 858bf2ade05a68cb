package durable_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"sphere.software/objstore/internal/durable"
)

// entries lists the names in dir.
func entries(tb testing.TB, dir string) []string {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "creds")
	for _, body := range []string{"first\n", "second, replacing the first\n"} {
		if err := durable.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatalf("WriteFile: %v", err)
		}
		if got := readFile(t, path); got != body {
			t.Fatalf("read %q, want %q", got, body)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Fatalf("dir holds %v, want only the file", got)
	}
}

func TestWriteFileFailureLeavesNothing(t *testing.T) {
	t.Run("missing directory", func(t *testing.T) {
		err := durable.WriteFile(filepath.Join(t.TempDir(), "no", "such"), []byte("x"), 0o644)
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v, want ErrNotExist", err)
		}
	})
	t.Run("directory in the way", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "taken")
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(path, "child"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := durable.WriteFile(path, []byte("x"), 0o644); err == nil {
			t.Fatal("WriteFile over a non-empty directory succeeded")
		}
		if got := entries(t, dir); len(got) != 1 || got[0] != "taken" {
			t.Fatalf("dir holds %v after the failure, want only the directory", got)
		}
	})
}

func TestFileCommitKeepsReadersUntilClose(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := durable.CreateTemp(tmp, "body-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "body")
	if err := f.Commit(path); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if !f.Renamed() || f.Name() != path {
		t.Fatalf("after Commit: Renamed %v, Name %q", f.Renamed(), f.Name())
	}
	buf := make([]byte, 5)
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF || string(buf) != "hello" {
		t.Fatalf("ReadAt after Commit: %q, %v", buf, err)
	}
	if _, err := f.Write([]byte("more")); err == nil {
		t.Fatal("Write after Commit succeeded")
	}
	if err := f.Commit(path); err == nil {
		t.Fatal("second Commit succeeded")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "hello" {
		t.Fatalf("committed %q", got)
	}
	if got := entries(t, tmp); len(got) != 0 {
		t.Fatalf("tmp holds %v", got)
	}
}

func TestFileCloseWithoutCommitRemoves(t *testing.T) {
	dir := t.TempDir()
	f, err := durable.CreateTemp(dir, "x-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("abandoned")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Fatalf("dir holds %v", got)
	}
}

func TestFileCommitFailsBeforeRename(t *testing.T) {
	dir := t.TempDir()
	f, err := durable.CreateTemp(dir, "x-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	err = f.Commit(filepath.Join(dir, "missing", "body"))
	if !errors.Is(err, os.ErrNotExist) || f.Renamed() {
		t.Fatalf("Commit into a missing dir: %v, Renamed %v", err, f.Renamed())
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Fatalf("temp file left after the failed Commit: %v", got)
	}
}

func TestCommitFunc(t *testing.T) {
	dir := t.TempDir()
	mine := errors.New("books do not balance")
	t.Run("error before rename", func(t *testing.T) {
		f, err := durable.CreateTemp(dir, "a-*")
		if err != nil {
			t.Fatal(err)
		}
		err = f.CommitFunc(func(func(string) error) error { return mine })
		if !errors.Is(err, mine) || f.Renamed() {
			t.Fatalf("CommitFunc: %v, Renamed %v", err, f.Renamed())
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no rename", func(t *testing.T) {
		f, err := durable.CreateTemp(dir, "b-*")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.CommitFunc(func(func(string) error) error { return nil }); err == nil {
			t.Fatal("CommitFunc without a rename succeeded")
		}
	})
	t.Run("error after rename", func(t *testing.T) {
		f, err := durable.CreateTemp(dir, "c-*")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		path := filepath.Join(dir, "c")
		err = f.CommitFunc(func(rename func(string) error) error {
			if err := rename(path); err != nil {
				return err
			}
			if err := rename(path + "2"); err == nil {
				t.Error("second rename succeeded")
			}
			return mine
		})
		if !errors.Is(err, mine) || !f.Renamed() {
			t.Fatalf("CommitFunc: %v, Renamed %v", err, f.Renamed())
		}
	})
	if got := entries(t, dir); len(got) != 1 || got[0] != "c" {
		t.Fatalf("dir holds %v, want only the renamed file", got)
	}
}

// TestPublishFunc: the unsynced commit renames the file into place, keeps
// it after Close, refuses a publish that did not rename, and leaves the file
// renamed but never committed (a second commit is refused).
func TestPublishFunc(t *testing.T) {
	dir := t.TempDir()
	f, err := durable.CreateTemp(dir, "p-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("copy")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "p")
	if err := f.PublishFunc(func(rename func(string) error) error { return rename(path) }); err != nil {
		t.Fatalf("PublishFunc: %v", err)
	}
	if !f.Renamed() || f.Name() != path {
		t.Fatalf("after PublishFunc: Renamed %v, Name %s", f.Renamed(), f.Name())
	}
	if err := f.Commit(path); err == nil {
		t.Fatal("Commit after PublishFunc succeeded")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "copy" {
		t.Fatalf("published file holds %q", got)
	}

	g, err := durable.CreateTemp(dir, "q-*")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.PublishFunc(func(func(string) error) error { return nil }); err == nil {
		t.Fatal("PublishFunc without a rename succeeded")
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); len(got) != 1 || got[0] != "p" {
		t.Fatalf("dir holds %v, want only the published file", got)
	}
}

func TestMkdirAll(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "a", "b", "c")
	for range 2 { // the second call finds it there
		if err := durable.MkdirAll(deep, 0o755); err != nil {
			t.Fatalf("MkdirAll: %v", err)
		}
	}
	if fi, err := os.Stat(deep); err != nil || !fi.IsDir() {
		t.Fatalf("stat: %v", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := durable.MkdirAll(filepath.Join(file, "sub"), 0o755); !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("MkdirAll under a file: %v, want ENOTDIR", err)
	}
}

func TestMkdirAndRename(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	for _, d := range []string{src, dst, dst} {
		if err := durable.Mkdir(d, 0o755); err != nil {
			t.Fatalf("Mkdir %s: %v", d, err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("moved"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := durable.Rename(filepath.Join(src, "f"), filepath.Join(dst, "f")); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if got := readFile(t, filepath.Join(dst, "f")); got != "moved" {
		t.Fatalf("read %q", got)
	}
	if err := durable.Rename(filepath.Join(src, "f"), filepath.Join(dst, "g")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Rename of a missing file: %v", err)
	}
	if err := durable.SyncDir(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("SyncDir of a missing dir: %v", err)
	}
}
