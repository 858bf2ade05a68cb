package journal_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
)

// mappedKiB is the resident size, in KiB, of this process's mappings of
// the file at path (the Rss lines of /proc/self/smaps).
func mappedKiB(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-"): // a mapping's header
			in = strings.HasSuffix(line, path)
		case in && fields[0] == "Rss:":
			kb, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatal(err)
			}
			total += kb
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

// TestRangeLeavesFileUnmapped checks that a full Range does not leave the
// journal's pages in the process's resident set, and that everything
// still reads back after it, with merges running beside the scans.
func TestRangeLeavesFileUnmapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	s := openAt(t, path, journal.Options{NoSync: true})
	const n = 20_000
	recs := make([]objstore.Record, n)
	for i := range recs {
		recs[i] = live("b", fmt.Sprintf("id-%06d", i), uint64(i+1), "n", int64(i))
	}
	mergeAll(t, s, recs)
	// Reading every record maps the file's pages in.
	for _, r := range recs {
		mustGet(t, s, r)
	}
	before := mappedKiB(t, path)
	count := 0
	if err := s.Range(t.Context(), func(objstore.Record) bool { count++; return true }); err != nil {
		t.Fatal(err)
	}
	after := mappedKiB(t, path)
	if count != n || before < 1024 || after > before/8 {
		t.Fatalf("Range saw %d records; mapped %d KiB before it, %d KiB after", count, before, after)
	}

	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 200 {
			if _, _, err := s.Merge(t.Context(), live("b", fmt.Sprintf("new-%03d", i), uint64(n+i+1), "n", 1)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 3 {
		if err := s.Range(t.Context(), func(objstore.Record) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for _, r := range recs {
		mustGet(t, s, r)
	}
}

// mustGet fails unless the journal holds exactly want under its key.
func mustGet(t *testing.T, s *journal.Store, want objstore.Record) {
	t.Helper()
	got, err := s.Get(t.Context(), want.Key)
	if err != nil || got.Version != want.Version || got.Sum != want.Sum || got.Name != want.Name {
		t.Fatalf("Get %s = %+v, %v; want %+v", want.Key, got, err, want)
	}
}
