// Package journal is the node's durable metadata store: one record per
// object key, tombstones included, kept in a single bbolt file, with the
// indexes and digests that anti-entropy reads. It implements the
// node.Journal and node.Digests interfaces.
//
// # Buckets
//
// The file holds six top-level buckets:
//
//	records        encoded key → encoded objstore.Record (live records and
//	               tombstones)
//	leaves         leaf (2 bytes, big endian) + encoded key → empty: the leaf
//	               index, one entry per record;
//	               leaf (2 bytes, big endian) alone → the leaf's digest (8
//	               bytes, big endian), absent when zero
//	tombstones     HLC (8 bytes, big endian) + encoded key → empty: the
//	               tombstone index, one entry per tombstone, oldest first
//	intents        HLC (8 bytes, big endian) + encoded key → node ID: the
//	               uploads to the origin whose record is not committed yet
//	               (PutIntent; Merge of that version clears it)
//	group_digests  group (1 byte) → the group's digest (8 bytes, big endian),
//	               absent when zero
//	meta           "format"  → 1 byte, the layout version of this file (3)
//	               "node_id" → the node's ID, a 26-character ULID, made on
//	                           first Open
//	               "counts"  → live objects, live bytes and tombstones (see
//	                           below)
//
// Everything but records and meta is derived from the records, and every
// transaction that changes a record changes what is derived from it with it
// (see Digests).
//
// # Key encoding
//
// A record's bbolt key is the S3 bucket name, one 0x00 byte, then the object
// ID. S3 bucket names never contain 0x00, so the first 0x00 splits the key
// unambiguously, and byte order of encoded keys is the order of (bucket, id)
// pairs. Keys with an empty bucket or ID, a 0x00 in the bucket, or longer
// than MaxKeyLen (what bbolt allows less the 8 bytes that the tombstone index
// puts in front) are rejected with an error wrapping objstore.ErrInvalidKey.
//
// # Value encoding
//
// A value is a record without its key in the encoding that the journal
// shares with the peer streams: recordcodec.AppendValue writes it and
// recordcodec.DecodeValue reads it (see that package for the layout and
// every check). It starts with a format byte: 2 today; values of format 1
// (every string written out, as formats 1 and 2 of the file held them) are
// still read, so that a migration that stopped half way reads correctly.
//
// The decoder accepts only what the encoder writes (no overlong varints, no
// trailing bytes, flags that match the fields, strings referred to rather
// than written twice), so equal records have equal bytes and Merge can
// compare encodings to tell whether anything changed. A value that does
// not decode is reported as an error naming the key; it is never skipped.
//
// The counts value is the format byte 1 followed by three varints:
// objects, bytes, tombstones.
//
// # Merge
//
// Merge reads the stored record, computes objstore.Merge(stored, rec), writes
// the winner if it differs from what is stored and adjusts the counts, the
// indexes and the digests, all in one read-write transaction, so that they
// always describe exactly the records beside them. A live record adds one
// object and its Size to the counts; a tombstone adds one tombstone, whether
// or not a record existed before it.
//
// # Digests
//
// Anti-entropy compares key ranges between nodes (see objstore.LeafOf and
// node.Digests). A leaf's digest is the XOR of objstore.RecordHash over its
// records and a group's digest the XOR of its 256 leaves' digests. Since XOR
// is its own inverse, a change of one record from old to new XORs
// RecordHash(old) ^ RecordHash(new) into the digest of its leaf and into that
// of its group: a Get and a Put of 8 bytes in each of leaves and
// group_digests, skipped when the hash does not change. A new record also
// puts its leaf index entry, and a tombstone its tombstone index entry (moved
// when a tombstone replaces one of another HLC, removed when a live record
// replaces it). A digest of zero is deleted rather than stored, so that an
// empty store, and a range that has emptied, has no digest entries.
//
// The leaf's digest sits in the leaves bucket under the bare leaf number,
// which sorts just before the leaf's index entries: the digest and the
// entry that a new record adds mostly share a page, so that a Merge dirties
// one page of the leaves bucket rather than one there and one in a bucket of
// digests. Since leaves are spread by a hash, that page is a random one even
// when keys arrive in order: this page, the one group_digests page that
// every transaction shares and, for a tombstone, a page of the tombstone
// index (in HLC order, so mostly the last one) are what a Merge writes
// beyond the records and meta pages.
//
// GroupDigests reads the at most 256 entries of group_digests in one read
// transaction. LeafDigests walks the digest entries of each group asked for,
// seeking past each leaf's index entries: at most 256 seeks per group, fewer
// when leaves are empty. Neither reads records.
//
// LeafRecords walks the leaf index: for each leaf asked for (in ascending
// order, each once) it seeks to the leaf's prefix and reads the record of
// each entry (skipping the digest), a page of records per read transaction
// like Range, resuming after the last index key read, and calls its function
// outside of them.
//
// ExpireTombstones walks the tombstone index from the oldest entry until an
// HLC that is not older than its argument, and removes at most a page of
// tombstones per write transaction: the record, its two index entries, its
// hash from the digests and one tombstone from the counts. An index entry
// that names a missing record or one that is not that tombstone is reported
// as an error.
//
// # Migration
//
// Open migrates a file of an older format, then writes format 3 in its
// last transaction; until that commits the file keeps its format and the
// next Open starts the migration over. First it rewrites every record
// value that is not in the current value format, a page per write
// transaction (formats 1 and 2 held values of format 1). A format-1 file,
// which has only the records and meta buckets, then gets the derived
// buckets: Open empties them (in case an earlier migration was
// interrupted), adds the index entries of the records a page per write
// transaction, and writes the digests and the counts it computed over the
// same pass. Open rejects any format other than 1, 2 and 3, so an older
// binary refuses a newer file at start. testdata/format1.db and
// testdata/format2.db are files the code of those formats wrote.
//
// # Group commit
//
// Concurrent writers (Merge, the intents, ExpireTombstones) share one
// transaction and one fsync (commit.go). One writer at a time leads: it
// commits everything queued when it starts, its own function among it,
// and hands the lead to the first writer that queued during that commit.
// A lone writer commits at once; under load each group holds all who
// arrived during the previous fsync, so the number of fsyncs per second
// stays near one per fsync latency however many writers wait. (bbolt's
// DB.Batch, used before, cut a batch every millisecond and queued those
// batches behind one another, one fsync each: under 32 writers most of a
// PUT's time was spent queued there.) A function may run twice when
// another function of the same group fails (the failing one then runs
// alone, as DB.Batch does), so the merge function derives everything from
// the state inside the transaction and overwrites its results each time
// it runs. A write returns only once its transaction is committed and
// fsynced (unless Options.NoSync is set, which is for tests only).
//
// # Range
//
// Range reads records in read transactions of at most a thousand records
// (a page),
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
