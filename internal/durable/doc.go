// Package durable writes files and directories so that they survive a
// crash whole or not at all. It is the one place in objstore that knows the
// order that takes:
//
//	temp file in the target's file system → Write → Sync → Rename → fsync
//	the target's directory
//
// and that removes the temp file when any step fails.
//
// # Files
//
// CreateTemp starts a File; Commit publishes it under its final path;
// Close closes it and, without a Commit, removes it. Callers defer Close:
//
//	f, err := durable.CreateTemp(tmpDir, "part-*")
//	…
//	defer f.Close()
//	if _, err := f.Write(data); err != nil { … }
//	if err := f.Commit(path); err != nil { … }
//
// The descriptor stays open after Commit until Close, so that readers
// following a body as it arrives (disk.Writer.ReadAt) keep reading it. That
// puts Close after Rename, which is safe where objstore runs: the bytes are
// synced before the rename, and POSIX allows renaming an open file.
//
// CommitFunc is Commit for callers that must choose the final path, or
// update their own books, atomically with the rename (under their lock):
// it hands them the rename, and fsyncs the directory after they return,
// outside their lock, so that concurrent commits can share the fsync.
//
// CommitGroup is CommitFunc for a file at a new path, made durable by a
// Barrier: the rename comes first, then one sync of the whole file system
// shared by every writer that arrived meanwhile (a group commit), instead
// of two fsyncs per file.
//
// WriteAround makes a File's aligned writes go around the page cache
// (O_DIRECT), for a large file that will be synced anyway.
//
// WriteFile does the whole sequence for a byte slice.
//
// # Directories
//
// SyncDir fsyncs a directory. Mkdir and MkdirAll create directories and
// fsync their parents. Rename moves a file or directory and fsyncs the
// directories of both names.
package durable
