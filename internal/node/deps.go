package node

import (
	"context"
	"io"

	"sphere.software/objstore"
)

// Journal is the durable metadata store: one record per key, tombstones
// included. Implemented by internal/journal.
type Journal interface {
	// Get returns the stored record of key, a tombstone included, or an error
	// wrapping objstore.ErrNotFound.
	Get(ctx context.Context, key objstore.Key) (objstore.Record, error)
	// Merge stores objstore.Merge(stored, rec) durably (fsynced before it
	// returns) and returns the winner and whether rec changed the stored
	// record. It clears the intent of rec's key and version, if any, in the
	// same transaction.
	Merge(ctx context.Context, rec objstore.Record) (winner objstore.Record, changed bool, err error)
	// Range calls fn for every record in key order until fn returns false.
	Range(ctx context.Context, fn func(objstore.Record) bool) error
	// Scan calls fn for the records of bucket whose IDs sort at or after
	// from, tombstones included, in ID order, until fn returns false.
	Scan(ctx context.Context, bucket, from string, fn func(objstore.Record) bool) error
	// Counts returns the live object count and bytes and the tombstone count.
	Counts(ctx context.Context) (objstore.Counts, error)
	// MaxHLC returns the highest HLC of any record stored, tombstones
	// included, without a scan: the clock starts past it.
	MaxHLC(ctx context.Context) (uint64, error)
	// Digests serve anti-entropy.
	Digests
	Intents
	SmallBodies
}

// SmallBodies keep the bytes of small new bodies in the journal, beside
// their records, until their files are durable (smallbodies.go).
type SmallBodies interface {
	// MergeBody is Merge that also keeps body, the bytes of the body of
	// rec, in the same commit.
	MergeBody(ctx context.Context, rec objstore.Record, body []byte) (winner objstore.Record, changed bool, err error)
	// DropBodies forgets bodies kept by MergeBody; a missing one is not an
	// error.
	DropBodies(ctx context.Context, refs []objstore.BodyRef) error
	// Bodies calls fn with every body kept and not dropped until fn
	// returns false; body is valid only until fn returns.
	Bodies(ctx context.Context, fn func(ref objstore.BodyRef, body []byte) bool) error
}

// Intents are the uploads to the origin whose record is not committed yet,
// kept so that a crash between the two leaves no object in the origin that
// the cluster does not know (see orphans.go).
type Intents interface {
	// PutIntent records durably that version v of key is about to be
	// uploaded.
	PutIntent(ctx context.Context, key objstore.Key, v objstore.Version) error
	// DeleteIntent removes an intent; a missing one is not an error.
	DeleteIntent(ctx context.Context, key objstore.Key, v objstore.Version) error
	// Intents calls fn for every intent left until fn returns false.
	Intents(ctx context.Context, fn func(key objstore.Key, v objstore.Version) bool) error
}

// Blobs keeps object bodies on the local disk. Implemented by internal/disk
// through AdaptBlobs.
type Blobs interface {
	// Create starts writing the body of one version of key. Nothing is
	// visible to Open until the writer's Commit returns.
	Create(key objstore.Key, v objstore.Version) (BodyWriter, error)
	// Open opens a committed body. The first Open of a body in this process
	// verifies it against sum; a body that fails is removed and the error
	// wraps objstore.ErrChecksum. A missing body wraps objstore.ErrNotFound.
	// Every read of the body checks the blocks it touches (see BodyReader).
	Open(key objstore.Key, v objstore.Version, sum objstore.Checksum) (BodyReader, error)
	// SetOnCorrupt sets what hears of every body found corrupt, once it is
	// removed: by Open, or by a BodyReader's block check.
	SetOnCorrupt(fn func(key objstore.Key, v objstore.Version, cause error))
	blobFiles
}

// BodyReader is a committed body open for reading. Every byte it returns
// or writes out belongs to a block it checked in its own memory just
// before: a block that fails removes the body, is reported to the
// SetOnCorrupt function, and fails the read (and every later one) with an
// error wrapping objstore.ErrChecksum, which Err returns too.
type BodyReader interface {
	io.ReadSeeker
	// ReaderAt may be called from several goroutines at once.
	io.ReaderAt
	// WriterTo writes from the offset to the end, through one buffer:
	// the fast way to serve the body.
	io.WriterTo
	// WriteN writes n bytes from the offset, as WriteTo does.
	WriteN(w io.Writer, n int64) (int64, error)
	// Err is the error that cut reading short, if any.
	Err() error
	Close() error
}

// BlobStore is Blobs as a store that does not import this package declares
// it: its Create and Open return its own types. AdaptBlobs turns it into
// Blobs.
type BlobStore[W BodyWriter, R BodyReader] interface {
	Create(key objstore.Key, v objstore.Version) (W, error)
	Open(key objstore.Key, v objstore.Version, sum objstore.Checksum) (R, error)
	SetOnCorrupt(fn func(key objstore.Key, v objstore.Version, cause error))
	blobFiles
}

// AdaptBlobs returns s as Blobs.
func AdaptBlobs[W BodyWriter, R BodyReader](s BlobStore[W, R]) Blobs { return adaptedBlobs[W, R]{s} }

type adaptedBlobs[W BodyWriter, R BodyReader] struct{ BlobStore[W, R] }

func (a adaptedBlobs[W, R]) Create(key objstore.Key, v objstore.Version) (BodyWriter, error) {
	w, err := a.BlobStore.Create(key, v)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return w, nil
}

func (a adaptedBlobs[W, R]) Open(key objstore.Key, v objstore.Version, sum objstore.Checksum) (BodyReader, error) {
	r, err := a.BlobStore.Open(key, v, sum)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return r, nil
}

// blobFiles are the operations of Blobs on committed bodies.
type blobFiles interface {
	// Scrub re-reads a committed body whole and compares it with sum,
	// verified before or not; a body that fails is removed and the error
	// wraps objstore.ErrChecksum. A missing body wraps objstore.ErrNotFound.
	Scrub(key objstore.Key, v objstore.Version, sum objstore.Checksum) error
	// Has reports whether a committed body is on disk, without verifying it.
	Has(key objstore.Key, v objstore.Version) bool
	// Remove deletes a committed body; a missing one is not an error.
	Remove(key objstore.Key, v objstore.Version) error
	// Name is the file name Open uses for a body, for Sweep.
	Name(key objstore.Key, v objstore.Version) string
	// Sweep removes every committed body whose Name keep rejects, and
	// returns how many it removed.
	Sweep(ctx context.Context, keep func(name string) bool) (int, error)
	// Usage reports the file system figures and the bytes of bodies held.
	Usage() (objstore.DiskUsage, error)
	// RemoveName deletes the committed body called name (as Name returns
	// it) and returns the bytes freed: how an evicted body goes.
	RemoveName(name string) (int64, error)
	// SetMakeRoom sets what a write that would pass the quota calls to
	// free the bytes missing; it returns the bytes it freed.
	SetMakeRoom(fn func(need int64) (freed int64))
	// SyncAll makes every body renamed into place so far durable, all at
	// once; it fails with an error wrapping errors.ErrUnsupported where the
	// store can only fsync each body.
	SyncAll() error
}

// BodyWriter writes one body. Write streams the bytes (hashing them as they
// pass); ReadAt reads back bytes already written, so that readers can follow
// a body while it is still arriving; Commit makes it durable and visible;
// Close releases it and, without a successful Commit, discards it.
type BodyWriter interface {
	io.Writer
	io.ReaderAt
	// Commit fsyncs the body, renames it into place, fsyncs the directory
	// and returns the checksum of what was written. Write fails with an error
	// wrapping objstore.ErrInsufficientStorage when the quota or disk is full.
	Commit() (objstore.Checksum, error)
	// CommitCopy is Commit without the fsyncs, for a body whose durable
	// copy is in the origin: after a machine crash it may be missing or
	// torn, which Open's verification finds.
	CommitCopy() (objstore.Checksum, error)
	// Sum is the checksum of what was written so far, before any Commit.
	Sum() objstore.Checksum
	Close() error
}

// Remote is the origin: the S3 bucket (or the local directory standing in
// for it) that stays the durable source of truth. Implemented by
// internal/s3 and internal/localdir.
type Remote interface {
	// Put uploads rec.Size() bytes of body with rec's metadata and returns
	// once the origin has acknowledged them.
	Put(ctx context.Context, rec objstore.Record, body io.ReaderAt) error
	// Get opens an object in the origin and returns the record restored from
	// its metadata. For an object that objstore did not write, the record's
	// Version is zero and its Sum holds only the size. A missing object
	// wraps objstore.ErrNotFound.
	Get(ctx context.Context, key objstore.Key) (io.ReadCloser, objstore.Record, error)
	// Stat returns the record of an object in the origin without its body,
	// as Get would restore it. A missing object wraps objstore.ErrNotFound.
	Stat(ctx context.Context, key objstore.Key) (objstore.Record, error)
	// Delete removes an object; a missing one is not an error.
	Delete(ctx context.Context, key objstore.Key) error
	// String describes the origin for logs.
	String() string
}
