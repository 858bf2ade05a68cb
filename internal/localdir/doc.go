// Package localdir is the embedded default origin: a local directory that
// stands in for S3 when there is no AWS account. It implements node.Remote
// with the same record restoration as the s3 adapter.
//
// # Layout
//
//	<dir>/.tmp/                         temporary files of writes in progress
//	<dir>/<bucket>/<key>                object bodies: key "a/b/c" is the file
//	                                    <dir>/<bucket>/a/b/c
//	<dir>/<bucket>/.objstore-meta/<key> the sidecar: the object's record as JSON
//
// Buckets are directories named by valid S3 bucket names. A key maps to a
// path segment by segment; keys that are empty, absolute, longer than 1024
// bytes or not UTF-8, that hold NUL, an empty, "." or ".." segment or a
// segment over 255 bytes, or whose first segment is ".objstore-meta", are
// refused with an error wrapping objstore.ErrInvalidKey. So are keys that
// collide with the directory tree of other keys (S3 allows both "a" and
// "a/b"; a file system does not).
//
// The sidecar mirrors the key's path exactly, with no suffix such as .json:
// a suffix would make a 255-byte segment too long for the sidecar's name,
// and make keys "x" and "x.json/y" collide in the sidecar tree only.
//
// # Durability
//
// Bodies and sidecars are written to a temporary file, fsynced, renamed into
// place, and their directory fsynced. A Put removes the old sidecar first,
// then renames the body into place, then the new sidecar, so that a crash
// never pairs a body with another version's record: a body without a
// sidecar (or whose sidecar disagrees with it) is read as a foreign object,
// with a zero Version, like an object dropped into the directory by hand.
// Delete removes the body first, then the sidecar, and prunes empty parent
// directories below the bucket directory.
//
// One process uses a directory at a time: Open removes leftover temporary
// files.
package localdir
