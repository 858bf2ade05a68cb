package journal_test

import (
	"context"
	"path/filepath"
	"testing"

	"sphere.software/objstore"

	"sphere.software/objstore/internal/journal"
)

// A body kept by MergeBody is in the journal with its record, survives a
// reopen, and is gone once dropped; Merge alone keeps none.
func TestMergeBodyKeepsTheBodyUntilDropped(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.db")
	s, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := live("b", "a", 10, "n1", 5)
	c := live("b", "c/with/slashes", 11, "node-two", 3)
	plain := live("b", "plain", 12, "n1", 4)
	if _, _, err := s.MergeBody(ctx, a, []byte("aaaaa")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.MergeBody(ctx, c, []byte("ccc")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Merge(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, journal.Options{})
	if got, err := s.Get(ctx, a.Key); err != nil || got.Version != a.Version {
		t.Fatalf("record of a: %+v, %v", got, err)
	}
	got := bodies(t, s)
	if len(got) != 2 || got[objstore.BodyRef{Key: a.Key, Version: a.BodyVersion}] != "aaaaa" ||
		got[objstore.BodyRef{Key: c.Key, Version: c.BodyVersion}] != "ccc" {
		t.Fatalf("bodies after reopen: %v", got)
	}
	missing := objstore.BodyRef{Key: plain.Key, Version: plain.BodyVersion}
	if err := s.DropBodies(ctx, []objstore.BodyRef{{Key: a.Key, Version: a.BodyVersion}, missing}); err != nil {
		t.Fatal(err)
	}
	if got := bodies(t, s); len(got) != 1 || got[objstore.BodyRef{Key: c.Key, Version: c.BodyVersion}] != "ccc" {
		t.Fatalf("bodies after drop: %v", got)
	}
}

// bodies returns what Bodies gives, by reference.
func bodies(t *testing.T, s *journal.Store) map[objstore.BodyRef]string {
	t.Helper()
	got := map[objstore.BodyRef]string{}
	if err := s.Bodies(context.Background(), func(ref objstore.BodyRef, body []byte) bool {
		got[ref] = string(body)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return got
}
