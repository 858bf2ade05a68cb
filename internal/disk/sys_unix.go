//go:build linux || darwin || freebsd

package disk

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"

	"sphere.software/objstore"
)

// statfs returns the size, use and free space of the file system holding
// path. Free is what an unprivileged writer may still use.
func statfs(path string) (objstore.DiskUsage, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return objstore.DiskUsage{}, err
	}
	bs := uint64(st.Bsize)
	return objstore.DiskUsage{
		Total: uint64(st.Blocks) * bs,
		Used:  (uint64(st.Blocks) - uint64(st.Bfree)) * bs,
		Free:  uint64(st.Bavail) * bs,
	}, nil
}

// lockFile takes an exclusive flock(2) on the file at path, creating it,
// and writes this process's pid into it. When another open file holds the
// lock it returns errHeld and the pid written there by the holder. The
// lock lasts until the returned file is closed, or the process ends.
func lockFile(path string) (f *os.File, holder string, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, "", err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		data, _ := os.ReadFile(path) // best effort: only for the message
		_ = f.Close()                // not locked; nothing written
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, strings.TrimSpace(string(data)), errHeld
		}
		return nil, "", err
	}
	// The pid is only for the next process's error message: no fsync.
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		_ = f.Close() // the write's error is the one to report
		return nil, "", err
	}
	return f, "", nil
}
