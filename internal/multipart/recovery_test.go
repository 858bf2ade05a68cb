package multipart

import (
	"bytes"
	"context"
	"crypto/md5"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sphere.software/objstore"
)

func openTest(tb testing.TB, dir string) *Store {
	tb.Helper()
	s, err := Open(Config{Dir: dir, MinPartSize: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func writeFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// TestOpenRecovers builds by hand the states a crash can leave and checks
// what Open makes of them.
func TestOpenRecovers(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	info, err := s.Create(Info{Bucket: "b", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	up := filepath.Join(dir, info.ID)
	old, newer := []byte("old"), []byte("newer")
	oldName := partName(1, 1, md5.Sum(old))
	newName := partName(1, 7, md5.Sum(newer))
	lowName := partName(2, 9, md5.Sum(old)) // a higher generation on another number
	writeFile(t, filepath.Join(up, oldName), old)
	writeFile(t, filepath.Join(up, newName), newer)
	writeFile(t, filepath.Join(up, lowName), old)
	writeFile(t, filepath.Join(up, "part-00003.tmp"), []byte("junk"))
	// Leftovers in tmp: a part being written, a half-made and a half-removed upload.
	writeFile(t, filepath.Join(dir, tmpDir, "part-123"), []byte("partial"))
	writeFile(t, filepath.Join(dir, tmpDir, "new-"+newID(time.Now()), infoName), []byte("{"))
	writeFile(t, filepath.Join(dir, tmpDir, "rm-"+newID(time.Now()), oldName), old)
	// Upload directories without a usable info.json.
	noInfo := filepath.Join(dir, newID(time.Now()))
	writeFile(t, filepath.Join(noInfo, oldName), old)
	badInfo := filepath.Join(dir, newID(time.Now()))
	writeFile(t, filepath.Join(badInfo, infoName), []byte("not json"))
	otherID := filepath.Join(dir, newID(time.Now()))
	data, _ := encodeInfo(Info{ID: info.ID, Bucket: "b", Key: "k", Initiated: info.Initiated})
	writeFile(t, filepath.Join(otherID, infoName), data)
	// Things that are not ours stay.
	foreign := filepath.Join(dir, "README")
	writeFile(t, foreign, []byte("hi"))

	s = openTest(t, dir)
	if got, err := os.ReadDir(filepath.Join(dir, tmpDir)); err != nil || len(got) != 0 {
		t.Errorf("tmp holds %v, %v", got, err)
	}
	for _, gone := range []string{noInfo, badInfo, otherID, filepath.Join(up, oldName), filepath.Join(up, "part-00003.tmp")} {
		if exists(gone) {
			t.Errorf("%s survived Open", gone)
		}
	}
	if !exists(foreign) {
		t.Error("Open removed a file it does not own")
	}
	parts, _, err := s.ListParts(info.ID, 0, 0)
	if err != nil || len(parts) != 2 || parts[0].ETag != `"`+objstore.MD5(md5.Sum(newer)).String()+`"` || parts[0].Size != 5 {
		t.Fatalf("ListParts = %+v, %v", parts, err)
	}
	// The next generation is above every one on disk.
	p, err := s.PutPart(context.Background(), info.ID, 2, 3, bytes.NewReader([]byte("new")))
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := s.lookup(info.ID); u.parts[2].gen != 10 || !exists(filepath.Join(up, partName(2, 10, p.MD5))) || exists(filepath.Join(up, lowName)) {
		t.Fatalf("part 2 after reopen: %+v", u.parts[2])
	}
	if n, _, _ := s.Usage(); n != 1 {
		t.Fatalf("Usage counts %d uploads, want 1", n)
	}
}
