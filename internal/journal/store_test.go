package journal_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	berrors "go.etcd.io/bbolt/errors"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/journal"
)

func TestNodeID(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	pathA := filepath.Join(dirA, "journal.db")
	a := openAt(t, pathA, journal.Options{NoSync: true})
	first := a.NodeID()
	if _, err := ulid.ParseStrict(first); err != nil {
		t.Fatalf("node id %q is not a ULID: %v", first, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("stable across reopen", func(t *testing.T) {
		for range 3 {
			s := openAt(t, pathA, journal.Options{NoSync: true})
			if got := s.NodeID(); got != first {
				t.Fatalf("node id after reopen = %q, want %q", got, first)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("different per state dir", func(t *testing.T) {
		b := openAt(t, filepath.Join(dirB, "journal.db"), journal.Options{NoSync: true})
		if b.NodeID() == first {
			t.Fatalf("two state dirs share node id %q", first)
		}
	})
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	s := openAt(t, path, journal.Options{}) // with fsync, as in production
	recs := []objstore.Record{
		live("b", "one", 10, "n1", 100),
		live("b", "two", 11, "n1", 200),
		tomb("b", "two", 12, "n2"),
		tomb("c", "never", 13, "n1"),
	}
	recs[0].UserMeta = []byte(`{"owner":"x"}`)
	recs[0].ContentType = "text/plain"
	recs[0].InRemote = true
	for _, r := range recs {
		merge(t, s, r)
	}
	before, beforeCounts, id := all(t, s), counts(t, s), s.NodeID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path, journal.Options{})
	if got := all(t, s); !reflect.DeepEqual(got, before) {
		t.Errorf("records after reopen:\n got %+v\nwant %+v", got, before)
	}
	if got := counts(t, s); got != beforeCounts {
		t.Errorf("counts after reopen = %+v, want %+v", got, beforeCounts)
	}
	if s.NodeID() != id {
		t.Errorf("node id changed across reopen")
	}
	got, err := s.Get(t.Context(), recs[0].Key)
	if err != nil || !reflect.DeepEqual(got, recs[0]) {
		t.Errorf("Get after reopen = %+v, %v; want %+v", got, err, recs[0])
	}
}

func TestOpenLockedFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	first := openAt(t, path, journal.Options{NoSync: true})

	const timeout = 200 * time.Millisecond
	start := time.Now()
	s, err := journal.Open(path, journal.Options{NoSync: true, LockTimeout: timeout})
	if err == nil {
		_ = s.Close() // the test has failed already
		t.Fatal("second Open of a locked file succeeded")
	}
	if took := time.Since(start); took > timeout+2*time.Second {
		t.Errorf("second Open took %s with a %s timeout", took, timeout)
	}
	if !errors.Is(err, berrors.ErrTimeout) {
		t.Errorf("error %v does not wrap bbolt's ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), "journal: state dir in use by another process") {
		t.Errorf("error %q does not say the state dir is in use", err)
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	openAt(t, path, journal.Options{NoSync: true, LockTimeout: timeout})
}

func TestClosedStore(t *testing.T) {
	s := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Merge(t.Context(), live("b", "k", 1, "n", 1)); err == nil {
		t.Error("Merge on a closed store succeeded")
	}
	if _, err := s.Get(t.Context(), objstore.Key{Bucket: "b", ID: "k"}); err == nil {
		t.Error("Get on a closed store succeeded")
	}
}
