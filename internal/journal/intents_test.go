package journal_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
)

type intent struct {
	key objstore.Key
	v   objstore.Version
}

func intents(tb testing.TB, s *journal.Store) []intent {
	tb.Helper()
	var out []intent
	err := s.Intents(context.Background(), func(k objstore.Key, v objstore.Version) bool {
		out = append(out, intent{k, v})
		return true
	})
	if err != nil {
		tb.Fatalf("intents: %v", err)
	}
	return out
}

// An intent survives a reopen until the Merge of its version or a
// DeleteIntent clears it; a Merge of another version leaves it.
func TestIntents(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.db")
	s := openAt(t, path, journal.Options{})
	a := live("b", "a", 10, "n1", 3)
	b := live("b", "b", 20, "n1", 4)
	for _, r := range []objstore.Record{a, b} {
		if err := s.PutIntent(ctx, r.Key, r.Version); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, journal.Options{})
	want := []intent{{a.Key, a.Version}, {b.Key, b.Version}}
	if got := intents(t, s); !slices.Equal(got, want) {
		t.Fatalf("after reopen: %v, want %v", got, want)
	}
	other := a
	other.Version.HLC = 11
	merge(t, s, other)
	if got := intents(t, s); !slices.Equal(got, want) {
		t.Fatalf("after merging another version: %v, want %v", got, want)
	}
	merge(t, s, a)
	if got := intents(t, s); !slices.Equal(got, want[1:]) {
		t.Fatalf("after merging a: %v, want %v", got, want[1:])
	}
	if err := s.DeleteIntent(ctx, b.Key, b.Version); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIntent(ctx, b.Key, b.Version); err != nil {
		t.Fatalf("deleting a missing intent: %v", err)
	}
	if got := intents(t, s); len(got) != 0 {
		t.Fatalf("after delete: %v, want none", got)
	}
}
