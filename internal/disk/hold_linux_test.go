package disk_test

import (
	"testing"

	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/durable"
	"sphere.software/objstore/internal/pagecache"
)

// A held body larger than GroupCommitMax reaches its file around the page
// cache at the commit, CommitCopy's (a streamed level-1 upload's) as
// Commit's: of the committed file, only the page of the body's ragged end,
// which the trailer shares, is cached. On a file system without O_DIRECT
// the commit writes through the cache instead, and the body still reads
// back whole.
func TestHeldBodyGoesAroundThePageCache(t *testing.T) {
	for _, sync := range []bool{false, true} {
		t.Run(map[bool]string{false: "CommitCopy", true: "Commit"}[sync], func(t *testing.T) {
			dir := t.TempDir()
			direct, err := pagecache.DirectWorks(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("O_DIRECT on %s: %v", dir, direct)
			s := openStore(t, dir, 0)
			k, v := key("around"), ver(1)
			data := pattern(1<<20+7, 3)
			if len(data) <= disk.GroupCommitMax {
				t.Fatalf("a %d-byte body is under GroupCommitMax (%d): not written around the cache", len(data), disk.GroupCommitMax)
			}
			w, err := s.Create(k, v)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			w.Hold(durable.AlignedBytes(len(data)))
			for off := 0; off < len(data); off += 64 << 10 {
				if _, err := w.Write(data[off:min(off+64<<10, len(data))]); err != nil {
					t.Fatal(err)
				}
			}
			commit := w.CommitCopy
			if sync {
				commit = w.Commit
			}
			sum, err := commit()
			if err != nil {
				t.Fatal(err)
			}
			if direct {
				path := bodyFile(t, dir, s, k, v)
				if n, err := pagecache.Resident(path); err != nil || n > 1 {
					t.Errorf("%d pages of the committed %d-byte body are in the page cache (%v), want at most its tail's 1", n, len(data), err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			mustEqual(t, get(t, s, k, v, sum), data)
		})
	}
}
