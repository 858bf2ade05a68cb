// Package multipart is the node-local staging store for S3 multipart
// uploads: it keeps each upload's parameters and parts on the local disk
// from CreateMultipartUpload until CompleteMultipartUpload or
// AbortMultipartUpload, validates a completion's part list, and streams the
// chosen parts, in order, as one body. The S3 handler calls it; it knows
// nothing of HTTP or XML.
//
// # Layout
//
//	<dir>/<id>/info.json                          the upload's Info, as JSON
//	<dir>/<id>/part-00001.<gen>.<md5>             one part: its number (5 decimal digits),
//	                                              a generation (16 hex digits) and its
//	                                              MD5 (32 hex digits); the size is the file's
//	<dir>/tmp/                                    parts being written, uploads being
//	                                              created or removed (emptied by Open)
//
// An upload ID is 48 lowercase hex digits: 16 of the initiation time (Unix
// nanoseconds) and 32 of 128 random bits. So IDs are safe as file names,
// cannot collide on case-insensitive file systems, and sort the uploads of
// one key by initiation time, which is the order S3 lists them in and lets
// ListUploads treat an upload-id marker as "IDs lexicographically greater",
// as S3 documents it. An ID of any other form is refused with
// ErrNoSuchUpload before any path is built from it.
//
// A part's name holds everything ListParts and Assemble need (number, MD5,
// and with the file's size and modification time, Size and Modified), so
// the store never re-reads a part to describe it. The generation orders
// the files of one part number: the highest wins.
//
// # Durability
//
// Create writes info.json into a fresh directory under tmp, fsyncs the file
// and the directory, renames the directory to <dir>/<id> and fsyncs <dir>:
// an upload directory never exists without its info.json.
//
// PutPart writes the body to a temp file in tmp (hashing it as it goes),
// sets its modification time, fsyncs it, renames it to its part name with
// the next generation and fsyncs the upload directory before it returns.
// Only then does it remove the file of the part it replaced. So after a
// crash: a part being written is at most a temp file, which Open removes;
// an acknowledged part is on disk whole; and when a replacement's rename
// survived but the removal of the file it replaced did not, both files are
// there and Open keeps the higher generation.
//
// Remove renames the upload directory into tmp, fsyncs <dir>, then removes
// the files: an abort is all or nothing, and Open finishes an interrupted
// one.
//
// # Concurrency
//
// A Store is safe for concurrent use. Parts are written without a lock,
// so parts of one upload upload in parallel; a short per-upload lock
// orders the renames that install them against Assemble and Remove. Two
// PutParts of one number each write their own file and rename it into
// place: the later rename wins whole, never a mix.
//
// Assemble takes a snapshot of the parts it validated and pins the upload:
// until the returned reader is closed, the files of those parts stay on
// disk even if PutPart replaces them or Remove (or Expire) removes the
// upload, so the reader streams exactly what was validated. It opens one
// part file at a time.
package multipart
