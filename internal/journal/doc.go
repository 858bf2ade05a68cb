// Package journal is the node's durable metadata store: one record per
// object key, tombstones included, kept in a single bbolt file. It implements
// the node.Journal interface.
//
// # Buckets
//
// The file holds two top-level buckets:
//
//	records  encoded key → encoded objstore.Record (live records and tombstones)
//	meta     "format"  → 1 byte, the layout version of this file (1)
//	         "node_id" → the node's ID, a 26-character ULID, made on first Open
//	         "counts"  → live objects, live bytes and tombstones (see below)
//
// # Key encoding
//
// A record's bbolt key is the S3 bucket name, one 0x00 byte, then the object
// ID. S3 bucket names never contain 0x00, so the first 0x00 splits the key
// unambiguously, and byte order of encoded keys is the order of (bucket, id)
// pairs. Keys with an empty bucket or ID, a 0x00 in the bucket, or longer
// than bbolt allows are rejected with an error wrapping
// objstore.ErrInvalidKey.
//
// # Value encoding
//
// Every value starts with a one-byte format version so that the encoding can
// change later without a migration of the whole file; version 1 is a compact
// binary layout (the key is not repeated in the value):
//
//	version   1 byte  (1)
//	flags     1 byte  (bit 0 Deleted, bit 1 InRemote, bit 2 BodyVersion
//	                   equals Version; other bits must be 0)
//	level     1 byte
//	version   uvarint HLC, then node as uvarint length + bytes
//	body      BodyVersion like version; absent when flag bit 2 is set
//	size      varint
//	crc32c    4 bytes, big endian
//	md5       16 bytes
//	name      uvarint length + bytes
//	ctype     uvarint length + bytes
//	usermeta  uvarint length + bytes (0 = none)
//
// The decoder accepts only what the encoder writes (no overlong varints, no
// trailing bytes, flags that match the fields), so equal records have equal
// bytes and Merge can compare encodings to tell whether anything changed.
//
// The counts value is the version byte 1 followed by three varints: objects,
// bytes, tombstones. A value that does not decode is reported as an error
// naming the key; it is never skipped.
//
// # Merge
//
// Merge reads the stored record, computes objstore.Merge(stored, rec), writes
// the winner if it differs from what is stored and adjusts the counts, all in
// one read-write transaction, so that the counts always describe exactly the
// records beside them. A live record adds one object and its Size to the
// counts; a tombstone adds one tombstone, whether or not a record existed
// before it.
//
// # Group commit
//
// Concurrent Merges run through bbolt's DB.Batch: Merges from many goroutines
// share one transaction and one fsync. Batch waits up to a millisecond for
// more Merges to join; a Merge with no other Merge in progress skips that
// wait and commits at once with DB.Update. Batch may run a function twice
// when another function of the same batch fails, so the merge function
// derives everything from the state inside the transaction and overwrites
// its results each time it runs. Merge returns only once the transaction is
// committed and fsynced (unless Options.NoSync is set, which is for tests
// only).
//
// # Range
//
// Range reads records in read transactions of at most a thousand records,
// resuming after the last key, and calls its function outside of them, so
// that a long scan neither pins old pages of the file nor deadlocks when the
// function itself calls Merge.
//
// # Lock
//
// bbolt takes an exclusive flock on the file. Open waits for it at most
// Options.LockTimeout (2s by default) and then fails with "journal: state dir
// in use by another process", so a second process started on the same state
// directory stops at once instead of hanging.
package journal
