package journal_test

import (
	"context"
	"path/filepath"
	"testing"

	"sphere.software/objstore"

	"sphere.software/objstore/internal/journal"
)

// The highest HLC survives a restart, counts tombstones and is computed
// once for a journal written before it was kept.
func TestMaxHLC(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.db")
	s := openAt(t, path, journal.Options{NoSync: true})
	want := func(s *journal.Store, ts uint64) {
		t.Helper()
		got, err := s.MaxHLC(ctx)
		if err != nil || got != ts {
			t.Fatalf("MaxHLC = %d, %v; want %d", got, err, ts)
		}
	}
	want(s, 0)
	for _, rec := range []objstore.Record{live("b", "x", 50, "A", 3), live("b", "y", 20, "A", 3), tomb("b", "z", 70, "B"), live("b", "x", 40, "B", 3)} {
		if _, _, err := s.Merge(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	want(s, 70)
	if err := journal.DropMaxHLC(s); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, journal.Options{NoSync: true})
	want(s, 70)
}
