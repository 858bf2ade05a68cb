package disk_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sphere.software/objstore/internal/disk"
)

const otherNode = "01J00000000000000000000000"

// openAs opens a store in dir owned by node, failing the test on error,
// and closes it at the end of the test.
func openAs(tb testing.TB, dir, node string) *disk.Store {
	tb.Helper()
	s, err := disk.Open(dir, disk.Config{NodeID: node, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatalf("Open(%s) as %q: %v", dir, node, err)
	}
	tb.Cleanup(func() { _ = s.Close() }) // closing twice is fine
	return s
}

// mustClose closes s.
func mustClose(tb testing.TB, s *disk.Store) {
	tb.Helper()
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
}

// wantOpenError fails unless opening dir as node fails with an error
// holding every one of parts.
func wantOpenError(tb testing.TB, dir, node string, parts ...string) {
	tb.Helper()
	s, err := disk.Open(dir, disk.Config{NodeID: node})
	if err == nil {
		_ = s.Close()
		tb.Fatalf("Open(%s) as %s succeeded", dir, node)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			tb.Errorf("error %q does not name %q", err, p)
		}
	}
}

// unclaimed lists the files Sweep moved aside in dir.
func unclaimed(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "unclaimed"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// keepOnly is a Sweep keep func that keeps the bodies called names.
func keepOnly(names ...string) func(string) bool {
	return func(name string) bool {
		for _, n := range names {
			if n == name {
				return true
			}
		}
		return false
	}
}

func TestSecondStoreOnDirFails(t *testing.T) {
	dir := t.TempDir()
	first := openAs(t, dir, testNode)
	wantOpenError(t, dir, testNode, "in use by another process", "pid "+strconv.Itoa(os.Getpid()),
		"node "+testNode, filepath.Join(dir, "lock"))
	// Another node is refused by the lock too, naming the holder.
	wantOpenError(t, dir, otherNode, "in use by another process", testNode)
	mustClose(t, first)
	openAs(t, dir, testNode) // unlocked by Close
}

func TestOtherNodeRefused(t *testing.T) {
	dir := t.TempDir()
	s := openAs(t, dir, testNode)
	sum := put(t, s, key("a"), ver(1), []byte("mine"))
	mustClose(t, s)

	wantOpenError(t, dir, otherNode, "belongs to node "+testNode, "not to this node "+otherNode,
		filepath.Join(dir, "owner"))
	s = openAs(t, dir, testNode)
	mustEqual(t, get(t, s, key("a"), ver(1), sum), []byte("mine"))
}

func TestFreshDirIsProvenAtOnce(t *testing.T) {
	dir := t.TempDir()
	s := openAs(t, dir, testNode)
	kept := put(t, s, key("kept"), ver(1), []byte("kept"))
	put(t, s, key("orphan"), ver(1), []byte("orphan"))
	mustClose(t, s)

	s = openAs(t, dir, testNode)
	n, err := s.Sweep(t.Context(), keepOnly(s.Name(key("kept"), ver(1))))
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1, nil", n, err)
	}
	if got := unclaimed(t, dir); len(got) != 0 {
		t.Fatalf("a proven dir moved bodies aside: %v", got)
	}
	if got := files(t, dir); len(got) != 1 {
		t.Fatalf("files after Sweep: %v, want the kept body only", got)
	}
	mustEqual(t, get(t, s, key("kept"), ver(1), kept), []byte("kept"))
}

// TestAdoptUnmarkedDir is the upgrade from a files dir of an objstore that
// wrote no owner file: the node adopts it, but the bodies it cannot
// account for are moved aside, not removed, even when the first Sweep is
// interrupted; once a Sweep has completed, the dir is proven.
func TestAdoptUnmarkedDir(t *testing.T) {
	dir := t.TempDir()
	old := openAs(t, dir, "") // an older objstore: no owner file
	put(t, old, key("mine"), ver(1), []byte("mine"))
	put(t, old, key("theirs"), ver(1), []byte("theirs"))
	mustClose(t, old)
	if _, err := os.Stat(filepath.Join(dir, "owner")); !os.IsNotExist(err) {
		t.Fatalf("a store without a node ID wrote an owner file: %v", err)
	}

	mustClose(t, openAs(t, dir, testNode)) // adopts; stops before its Sweep
	wantOpenError(t, dir, otherNode, "belongs to node "+testNode)

	s := openAs(t, dir, testNode)
	theirs := s.Name(key("theirs"), ver(1))
	n, err := s.Sweep(t.Context(), keepOnly(s.Name(key("mine"), ver(1))))
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1, nil", n, err)
	}
	if got := unclaimed(t, dir); len(got) != 1 || got[0] != theirs {
		t.Fatalf("unclaimed = %v, want [%s]", got, theirs)
	}
	if got := bodies(t, s); got != int64(len("mine")) {
		t.Fatalf("Bodies = %d after moving one aside", got)
	}
	owner, err := os.ReadFile(filepath.Join(dir, "owner"))
	if err != nil || strings.Contains(string(owner), "adopted") || !strings.Contains(string(owner), testNode) {
		t.Fatalf("owner after the Sweep: %q, %v; want proven for %s", owner, err, testNode)
	}
	mustClose(t, s)

	// Proven now: the next orphan (left by a process that ended before its
	// record) is removed.
	s = openAs(t, dir, testNode)
	put(t, s, key("orphan"), ver(1), []byte("orphan"))
	mustClose(t, s)
	s = openAs(t, dir, testNode)
	if n, err := s.Sweep(t.Context(), keepOnly(s.Name(key("mine"), ver(1)))); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	if got := unclaimed(t, dir); len(got) != 1 {
		t.Fatalf("unclaimed = %v: the proven dir's orphan was moved, not removed", got)
	}
}

func TestUncheckedStoreNeverRemoves(t *testing.T) {
	dir := t.TempDir()
	s := openAs(t, dir, "")
	put(t, s, key("a"), ver(1), []byte("a"))
	mustClose(t, s)
	s = openAs(t, dir, "")
	if n, err := s.Sweep(t.Context(), keepOnly()); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	if got := unclaimed(t, dir); len(got) != 1 {
		t.Fatalf("unclaimed = %v, want the swept body", got)
	}
}

func TestBadOwnerFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantOpenError(t, dir, testNode, filepath.Join(dir, "owner"))
}
