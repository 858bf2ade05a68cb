// Package disk keeps object bodies on the local file system: one file per
// version of an object, written atomically, checked against its checksum
// before this process first serves it, and kept inside its root directory
// whatever the key.
//
// # Layout
//
// A body's file name is the first 40 hex digits of
// sha256(bucket + "\x00" + id), a dot and the version (objstore.Version.String:
// 16 hex digits of the HLC, a dash and the node ID). A version string that
// holds anything but [0-9A-Za-z.-], holds "..", or is very long is replaced
// by 40 hex digits of its own SHA-256, so a name never holds a path
// separator. Files are spread over 256 shard directories named by the first
// two characters of the name:
//
//	<dir>/3f/3fa2…c1.0000018f2b6c0001-01HZX…
//	<dir>/tmp/            bodies being written (emptied by Open)
//	<dir>/lock            flock(2)ed by the Store using dir; holds its pid
//	<dir>/owner           the ID of the node that owns dir
//	<dir>/unclaimed/      bodies Sweep moved aside instead of removing
//
// Any key, "../../etc/passwd" included, maps to a file inside dir.
//
// # Ownership
//
// A directory belongs to one node, as its journal does. Open locks it
// (a second process fails with an error naming the holder's pid and node)
// and checks its owner file against Config.NodeID: a directory of another
// node is refused, one without an owner file is claimed (durably, before
// use). Sweep removes bodies only from a directory proven this node's: one
// it claimed empty, or whose owner file named it at Open. A directory that
// held bodies but no owner file (written by an older objstore) is adopted:
// Sweep moves the bodies it cannot account for to dir/unclaimed rather
// than removing them, and only a completed Sweep marks it proven.
//
// # Start-up
//
// Open reads no body: the first Sweep (or Count) adds up the held bytes
// shard by shard while the store serves, and keeps the bodies this process
// commits before it reaches their shard. Until the count ends, a write that
// might pass the quota waits for it (see count.go).
//
// # Durability
//
// A write goes, through internal/durable: temp file in dir/tmp → Write
// (hashing CRC-32C and MD5 in the same pass) → fsync → rename into its
// shard → fsync the shard directory (and dir itself when the shard was just
// created). The file descriptor is closed later, by Writer.Close, so that readers following the body with
// Writer.ReadAt keep working after Commit. A crash before the rename leaves
// only a temp file, which the next Open removes; a crash after it may leave
// a body whose journal record never committed, which Store.Sweep removes.
//
// # Verification
//
// Every Open compares the file size with the recorded checksum (one fstat).
// The first Open of a body in a process also reads it whole and compares
// its CRC-32C; a body that fails is removed and the error wraps
// objstore.ErrChecksum. Bodies this process wrote are trusted, and verified
// names are remembered until Remove, so hot reads cost an open and an fstat
// and hand the caller a plain *os.File that net/http can serve with
// sendfile, without passing the bytes through a checksumming reader.
package disk
