package pagecache

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Resident counts the pages of the file at path that are in the page
// cache (mincore(2) of a mapping of it).
func Resident(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if fi.Size() == 0 {
		return 0, nil
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, fmt.Errorf("pagecache: map %s: %w", path, err)
	}
	defer unix.Munmap(m) //nolint:errcheck // a read-only mapping
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(m))), uintptr(len(m)),
		uintptr(unsafe.Pointer(unsafe.SliceData(vec)))); errno != 0 {
		return 0, fmt.Errorf("pagecache: mincore %s: %w", path, errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n, nil
}

// DirectWorks reports whether dir's file system opens files for writes
// around the page cache (O_DIRECT); tmpfs, for one, does not.
func DirectWorks(dir string) (bool, error) {
	p := filepath.Join(dir, ".pagecache-probe")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		return false, err
	}
	defer os.Remove(p)
	f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return false, nil
	}
	f.Close()
	return true, nil
}
