package journal

import (
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releaseMapped drops the pages of the file that tx's mapping holds from
// this process's resident set (madvise MADV_DONTNEED). bbolt maps the file
// shared and read-only and writes with pwrite, so the pages stay in the
// page cache and a later read maps them again from there (a minor fault);
// nothing is lost. The read transaction keeps bbolt from remapping the file
// meanwhile, so the range is the current mapping.
func releaseMapped(tx *bolt.Tx) error {
	info := tx.DB().Info()
	size := uintptr(tx.Size())
	if size == 0 {
		return nil
	}
	_, _, errno := unix.Syscall(unix.SYS_MADVISE, info.Data, size, unix.MADV_DONTNEED)
	if errno != 0 {
		return errno
	}
	return nil
}
