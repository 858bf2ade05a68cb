package disk_test

import (
	"bytes"
	"errors"
	"testing"

	"sphere.software/objstore"
)

// A write past the quota asks the room maker, which removes a body by
// name; the write then fits. With nothing left to free it fails as before.
func TestMakeRoomEvictsByName(t *testing.T) {
	s := openStore(t, t.TempDir(), 100)
	put(t, s, key("old"), ver(1), bytes.Repeat([]byte("o"), 60))
	oldName := s.Name(key("old"), ver(1))
	var asked []int64
	s.SetMakeRoom(func(need int64) int64 {
		asked = append(asked, need)
		freed, err := s.RemoveName(oldName)
		if err != nil {
			t.Errorf("RemoveName: %v", err)
		}
		return freed
	})
	put(t, s, key("new"), ver(2), bytes.Repeat([]byte("n"), 70))
	if len(asked) == 0 || asked[0] <= 0 {
		t.Fatalf("room maker asked %v, want a positive need", asked)
	}
	if s.Has(key("old"), ver(1)) || !s.Has(key("new"), ver(2)) {
		t.Fatal("want old evicted and new stored")
	}
	w, err := s.Create(key("third"), ver(3))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write(bytes.Repeat([]byte("t"), 40)); !errors.Is(err, objstore.ErrInsufficientStorage) {
		t.Fatalf("write with nothing left to evict: %v, want ErrInsufficientStorage", err)
	}
}

func TestRemoveNameRefusesPaths(t *testing.T) {
	s := openStore(t, t.TempDir(), 0)
	for _, name := range []string{"", "../x", "ab/cd", s.Name(key("k"), ver(1)) + "/.."} {
		if _, err := s.RemoveName(name); err == nil {
			t.Errorf("RemoveName(%q) succeeded, want refused", name)
		}
	}
	if freed, err := s.RemoveName(s.Name(key("missing"), ver(1))); err != nil || freed != 0 {
		t.Fatalf("RemoveName of a missing body: %d, %v; want 0, nil", freed, err)
	}
}
