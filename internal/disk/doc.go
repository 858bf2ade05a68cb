// Package disk keeps object bodies on the local file system: one file per
// version of an object, written atomically with a CRC-32C per 64 KiB
// block, checked block by block on every read, and kept inside its root
// directory whatever the key.
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
// Writer.ReadAt keep working after Commit. A body that Commit fsyncs whole
// may be written around the page cache (Writer.ExpectCommit). A crash before the rename leaves
// only a temp file, which the next Open removes; a crash after it may leave
// a body whose journal record never committed, which Store.Sweep removes.
//
// # Verification
//
// A body of more than one block (BlockSize, 64 KiB) is followed in its
// file by a trailer: the CRC-32C of each block and a 16-byte footer (see
// blocks.go). Writer computes the sums in the pass that hashes the body and
// writes the trailer before the fsync and rename. A body of one block has
// none: the record's CRC-32C is its block's.
//
// Open returns a Body. Every byte a Body returns or writes out belongs to
// a block it read into its own memory and checked there just before; its
// WriteTo and WriteN copy chunks of 4 blocks file → buffer → check → w,
// so the bytes checked are the bytes sent (sendfile is never used: it
// would send bytes nobody checked). A read checks only the blocks it
// touches. A block that fails removes the body (if it is still the file
// opened), tells the function set with SetOnCorrupt, and fails the read
// and every later one with an error wrapping objstore.ErrChecksum.
//
// Every Open also compares the file size with the recorded checksum (one
// fstat) and reads the trailer (one pread). The first Open of a body in a
// process reads it whole and compares its CRC-32C, so a body corrupt
// before the start is refused at Open (objstore.ErrChecksum) rather than
// cut mid-response; bodies this process wrote are trusted. A body without
// a valid trailer (written by an older objstore, or whose trailer rotted)
// passes that read and keeps the block sums it computed in memory.
package disk
