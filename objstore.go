// Package objstore holds the terms that every part of the objstore near-cache
// shares: object keys, the metadata record with its version and merge rule,
// consistency levels, body checksums and the sentinel errors.
//
// It depends on the standard library only, so that every adapter can import it
// without importing each other.
package objstore

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Key names one object: the origin bucket it belongs to and its key inside
// that bucket. On the native API the ID is a ULID; on the S3 API it is any
// S3 object key. Both live in one keyspace.
type Key struct {
	Bucket string `json:"bucket"`
	ID     string `json:"id"`
}

func (k Key) String() string { return k.Bucket + "/" + k.ID }

// Level is an object's consistency level: where its body must be held before
// a write is acknowledged. A level may be raised later, never lowered.
type Level uint8

const (
	// LevelLocal keeps the body on the one node that took the write.
	LevelLocal Level = 0
	// LevelS3 keeps the body on one node and in the origin (S3).
	LevelS3 Level = 1
	// LevelFull keeps the body on every node of the cluster and in the origin.
	LevelFull Level = 2
)

// MaxLevel is the highest consistency level.
const MaxLevel = LevelFull

// ParseLevel parses a level given as a decimal number ("0", "1" or "2").
// An empty string is LevelLocal, the original default.
func ParseLevel(s string) (Level, error) {
	if s == "" {
		return LevelLocal, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > int(MaxLevel) {
		return 0, fmt.Errorf("%w: %q (want 0, 1 or 2)", ErrInvalidLevel, s)
	}
	return Level(n), nil
}

// Remote reports whether objects of this level are kept in the origin.
func (l Level) Remote() bool { return l >= LevelS3 }

// Checksum is what the node computes over a body as it is written: its size,
// a CRC-32C (Castagnoli) for integrity checks on every read path, and an MD5
// that doubles as the S3 ETag of a single-part object.
type Checksum struct {
	Size   int64  `json:"size"`
	CRC32C uint32 `json:"crc32c"`
	MD5    MD5    `json:"md5"`
}

// MD5 is an MD5 digest; it encodes as 32 lowercase hex digits.
type MD5 [16]byte

func (m MD5) String() string { return hex.EncodeToString(m[:]) }

// MarshalText encodes the digest as hex.
func (m MD5) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText decodes 32 hex digits.
func (m *MD5) UnmarshalText(b []byte) error {
	if hex.DecodedLen(len(b)) != len(m) {
		return fmt.Errorf("md5: want 32 hex digits, got %d characters", len(b))
	}
	_, err := hex.Decode(m[:], b)
	return err
}

// ETag is the checksum as an S3 ETag: the hex MD5 in double quotes.
func (c Checksum) ETag() string { return `"` + c.MD5.String() + `"` }

// CRCString is the CRC-32C as 8 lowercase hex digits, as stored in S3 metadata.
func (c Checksum) CRCString() string { return fmt.Sprintf("%08x", c.CRC32C) }

// Version orders the changes to one record: a hybrid-logical-clock timestamp,
// then the writing node's ID as a tie-breaker.
type Version struct {
	// HLC is a hybrid logical clock reading: milliseconds since the Unix
	// epoch in the upper 48 bits, a logical counter in the lower 16.
	HLC uint64 `json:"hlc"`
	// Node is the ID of the node that made the change.
	Node string `json:"node"`
}

// BodyRef names the body of one version of a key (a Record's Key and
// BodyVersion).
type BodyRef struct {
	Key     Key
	Version Version
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w.
func (v Version) Compare(w Version) int {
	switch {
	case v.HLC < w.HLC:
		return -1
	case v.HLC > w.HLC:
		return 1
	}
	return strings.Compare(v.Node, w.Node)
}

// ForeignVersion is the version of an object that objstore did not write
// (a file put into the origin by another tool): its modification time in
// the origin, with no node. Any later write through objstore supersedes it,
// and it supersedes a delete made through objstore before it was written.
// A zero time gives the oldest real version.
func ForeignVersion(modified time.Time) Version {
	if modified.IsZero() || modified.UnixMilli() <= 0 {
		return Version{HLC: 1}
	}
	return Version{HLC: uint64(modified.UnixMilli()) << 16}
}

// IsForeign reports whether v is a ForeignVersion: no node made it.
func (v Version) IsForeign() bool { return v.Node == "" }

// IsZero reports whether v is the zero version, older than every real one.
func (v Version) IsZero() bool { return v.HLC == 0 && v.Node == "" }

// Time is the wall-clock part of the version.
func (v Version) Time() time.Time { return time.UnixMilli(int64(v.HLC >> 16)).UTC() }

// Settled returns the version that comes right after v: the one under
// which a change made at v and owed to the origin (a write-back upload or
// delete) is recorded, and sent to the origin, once the origin has it. It
// is newer than v and older than every other version newer than v: those
// with a greater HLC, and those with v's HLC and a greater node ID (node
// IDs are ULIDs, all of one length, so none sorts between v.Node and
// v.Node followed by more characters). A write made anywhere after v thus
// still wins over the settled change, as it would have over v, however
// late the origin came back; and the settled change keeps v's time.
func (v Version) Settled() Version { return Version{HLC: v.HLC, Node: v.Node + settledMark} }

// settledMark is what Settled appends to the node ID: characters a version
// string may hold in a file name (disk.fileName).
const settledMark = ".s"

// String is a fixed-width, sortable form used in file names: 16 hex digits of
// the HLC, a dash and the node ID.
func (v Version) String() string { return fmt.Sprintf("%016x-%s", v.HLC, v.Node) }

// Record is the metadata of one version of an object, or a tombstone.
// Records are last-writer-wins registers: see Merge.
type Record struct {
	Key
	// Name is the file name given by the writer; its extension picks the
	// Content-Type when ContentType is empty.
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	// UserMeta is the writer's metadata, a JSON object, or nil.
	UserMeta json.RawMessage `json:"user_meta,omitempty"`
	// Headers are the HTTP headers stored with the object and returned on
	// every read, keyed by canonical name; see StoredHeaders. Nil when none.
	Headers map[string]string `json:"headers,omitempty"`
	Level   Level             `json:"level"`
	Sum     Checksum          `json:"sum"`
	Version Version           `json:"version"`
	// BodyVersion is the version whose write produced the body. Changes
	// that keep the body (raising the level) get a new Version but keep
	// BodyVersion, so the body stays where it is on every disk.
	BodyVersion Version `json:"body_version"`
	// Deleted marks a tombstone: the object was deleted at Version.
	Deleted bool `json:"deleted,omitempty"`
	// InRemote reports that the body of this version is in the origin.
	InRemote bool `json:"in_remote,omitempty"`
	// Lost marks a live record whose body is gone: its only copy failed
	// its checksum and no peer and no origin held another. Reads of it
	// fail with ErrLost on every node; a new write of the key clears it.
	Lost bool `json:"lost,omitempty"`
}

// StoredHeaders are the response headers a writer may set on an object
// beside Content-Type, as S3 stores them: they are kept in Record.Headers,
// travel to the origin as the S3 object's own headers and come back on
// every read, on both APIs.
var StoredHeaders = []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

// Size is the body size in bytes.
func (r Record) Size() int64 { return r.Sum.Size }

// Modified is when this version was written.
func (r Record) Modified() time.Time { return r.Version.Time() }

// Merge returns the record that wins between two versions of the same key:
// the one with the greater Version. Two records with the same version are
// the same change and should be equal; if they are not (a bug elsewhere),
// the one with the greater canonical encoding wins so that Merge stays
// commutative, associative and idempotent whatever order records arrive in.
func Merge(a, b Record) Record {
	switch a.Version.Compare(b.Version) {
	case 1:
		return a
	case -1:
		return b
	}
	ea, errA := json.Marshal(a)
	eb, errB := json.Marshal(b)
	if errA != nil || errB != nil || string(ea) >= string(eb) {
		return a
	}
	return b
}

// MaxUserMeta is the largest user metadata, in bytes of compact JSON, that
// an object may carry: it must fit in S3's 2 KiB of user-defined object
// metadata (base64-encoded, beside objstore's own fields) so that any object
// can be raised to a level kept in S3.
const MaxUserMeta = 1024

// Counts summarises a journal: live objects, their bytes, and tombstones.
type Counts struct {
	Objects    int64 `json:"objects"`
	Bytes      int64 `json:"bytes"`
	Tombstones int64 `json:"tombstones"`
}

// DiskUsage describes the file system that holds the bodies and the share
// of it that the bodies use.
type DiskUsage struct {
	// Total, Free and Used describe the whole file system, as statfs sees it.
	Total uint64 `json:"bytes_all"`
	Used  uint64 `json:"bytes_used"`
	Free  uint64 `json:"bytes_free"`
	// Bodies is the bytes of committed bodies that this node holds.
	Bodies int64 `json:"bodies_bytes"`
	// Quota is the configured limit for Bodies; 0 means the disk's size.
	Quota int64 `json:"quota_bytes"`
}
