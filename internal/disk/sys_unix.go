//go:build linux || darwin || freebsd

package disk

import (
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
