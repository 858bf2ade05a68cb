package journal_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"sphere.software/objstore/internal/journal"
)

func TestSizeGrowsWithRecordsAndFitsTheFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.db")
	s := openAt(t, path, journal.Options{NoSync: true})
	empty, err := s.Size(ctx)
	if err != nil || empty <= 0 {
		t.Fatalf("size of a new journal = %d, %v; want > 0", empty, err)
	}
	for i := range 2000 {
		if _, _, err := s.Merge(ctx, live("b", fmt.Sprintf("key-%05d", i), uint64(i+1), "n1", 10)); err != nil {
			t.Fatal(err)
		}
	}
	full, err := s.Size(ctx)
	if err != nil || full <= empty {
		t.Fatalf("size after 2000 records = %d, %v; want more than %d", full, err, empty)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if full > fi.Size() {
		t.Fatalf("size %d is more than the file's %d bytes", full, fi.Size())
	}
}
