package objstore

import "errors"

// The sentinel errors shared by all packages. Wrap them with context
// (fmt.Errorf("...: %w", err)) and match them with errors.Is.
var (
	// ErrNotFound means no record and no body exist for a key.
	ErrNotFound = errors.New("not found")
	// ErrDeleted means the key's newest record is a tombstone.
	ErrDeleted = errors.New("deleted")
	// ErrInvalidID means a native API id is not a valid ULID.
	ErrInvalidID = errors.New("invalid id")
	// ErrInvalidKey means a bucket or key is empty, too long or unsafe as a path.
	ErrInvalidKey = errors.New("invalid key")
	// ErrInvalidLevel means a consistency level outside 0..2.
	ErrInvalidLevel = errors.New("invalid consistency level")
	// ErrInvalidWriteMode means a write mode other than through and back.
	ErrInvalidWriteMode = errors.New("invalid write mode")
	// ErrLevelLowered means a write asked for a lower level than the object has.
	ErrLevelLowered = errors.New("consistency level cannot be lowered")
	// ErrInvalidUserMeta means user metadata that is not a JSON object or is too large.
	ErrInvalidUserMeta = errors.New("invalid user meta")
	// ErrTooLarge means a body over the configured size limit.
	ErrTooLarge = errors.New("body too large")
	// ErrIncomplete means a body shorter or longer than its declared length.
	ErrIncomplete = errors.New("body length does not match")
	// ErrInsufficientStorage means the local disk or quota cannot hold the body
	// without evicting a sole copy.
	ErrInsufficientStorage = errors.New("insufficient storage")
	// ErrChecksum means a body does not match its recorded checksum.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrLost means the object's record is live but its body is lost: the
	// only copy failed its checksum and no other copy existed (see
	// Record.Lost). Unlike ErrUnavailable, waiting does not help.
	ErrLost = errors.New("body lost: its only copy failed its checksum")
	// ErrUnavailable means the body exists but every node holding it is
	// unreachable and the origin does not have it.
	ErrUnavailable = errors.New("body unavailable")
	// ErrNoRemote means the origin is not reachable or refused the request.
	ErrNoRemote = errors.New("origin unavailable")
	// ErrTimeout means a request to the origin hit a deadline (connect,
	// first byte, progress): the origin did not answer in time. Errors
	// that wrap it wrap ErrNoRemote too.
	ErrTimeout = errors.New("origin timed out")
)

// The sentinel errors of bucket operations.
var (
	// ErrNoSuchBucket means the origin has no bucket of that name.
	ErrNoSuchBucket = errors.New("no such bucket")
	// ErrBucketNotEmpty means a bucket to delete still holds objects.
	ErrBucketNotEmpty = errors.New("bucket not empty")
	// ErrBucketExists means a bucket name is taken by another account.
	ErrBucketExists = errors.New("bucket name taken")
	// ErrInvalidBucket means a bucket name the origin cannot use.
	ErrInvalidBucket = errors.New("invalid bucket name")
)

// ErrNotModified means a conditional read found the object unchanged: the
// origin answered 304 to If-None-Match.
var ErrNotModified = errors.New("not modified")

// ErrOriginChanged means a conditional upload found the object in the origin
// changed since it was read: the origin answered 412 (or 409) to If-Match or
// If-None-Match, and took nothing.
var ErrOriginChanged = errors.New("origin object changed meanwhile")
