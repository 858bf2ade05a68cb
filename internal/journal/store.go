package journal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultLockTimeout is how long Open waits for the file lock when
// Options.LockTimeout is zero.
const DefaultLockTimeout = 2 * time.Second

// Bucket names and meta keys.
var (
	bucketRecords      = []byte("records")
	bucketMeta         = []byte("meta")
	bucketLeaves       = []byte("leaves")
	bucketTombstones   = []byte("tombstones")
	bucketGroupDigests = []byte("group_digests")
	metaFormat         = []byte("format")
	metaNodeID         = []byte("node_id")
	metaCounts         = []byte("counts")
)

// derivedBuckets hold what is derived from the records bucket: the indexes
// and digests that format 2 added. A migration rebuilds them.
var derivedBuckets = [][]byte{bucketLeaves, bucketTombstones, bucketGroupDigests}

// fileFormat is the layout version stored under meta/format. Format 1 had
// only the records and meta buckets; format 2 added the derived buckets;
// format 3 holds every record value in the encoding that the journal
// shares with the peer streams (recordcodec value format 2), where formats
// 1 and 2 held values of recordcodec's format 1. Open migrates older files
// (see migrate.go); a binary that knows only format 2 refuses a format-3
// file at start rather than failing on each value it cannot read.
const (
	fileFormat   = 3
	fileFormatV1 = 1
	fileFormatV2 = 2
)

// defaultPage is the most records that one transaction of Range,
// LeafRecords, ExpireTombstones or a migration reads or removes.
const defaultPage = 1000

// Options configures Open. The zero value is ready for production use.
type Options struct {
	// Logger receives the store's log lines; nil discards them.
	Logger *slog.Logger
	// NoSync skips fsync on commit, losing durability. For tests and
	// benchmarks only.
	NoSync bool
	// LockTimeout is how long Open waits for another process to release
	// the file; zero means DefaultLockTimeout.
	LockTimeout time.Duration
}

// Store is the journal: a bbolt file of records plus the node ID and counts.
// Its methods are safe for concurrent use.
type Store struct {
	db     *bolt.DB
	log    *slog.Logger
	nodeID string
	page   int // records per transaction of the paged operations; tests lower it

	group committer // joins concurrent write transactions (commit.go)
}

// Open opens the journal file at path, creating it and its directory if
// needed. On first open it makes the node ID. It fails after
// opts.LockTimeout if another process holds the file.
func Open(path string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log = log.With("component", "journal")
	db, err := openDB(path, opts)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, log: log, page: defaultPage}
	var format byte
	err = db.Update(func(tx *bolt.Tx) error {
		var err error
		format, err = s.initTx(tx)
		return err
	})
	if err == nil && format != fileFormat {
		err = s.migrate(format)
	}
	if err == nil {
		err = s.ensureMaxHLC()
	}
	if err != nil {
		_ = db.Close() // the init error is the one to report
		return nil, fmt.Errorf("journal: init %s: %w", path, err)
	}
	log.Info("journal opened", "path", path, "node_id", s.nodeID)
	return s, nil
}

// openDB opens the bbolt file, turning a lock timeout into a clear error.
func openDB(path string, opts Options) (*bolt.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("journal: create state dir: %w", err)
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, NoSync: opts.NoSync})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("journal: state dir in use by another process: %s locked for %s: %w", path, timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	return db, nil
}

// initTx runs in Open's write transaction: it creates the buckets, checks
// the file format and loads or makes the node ID. It returns the format of
// the file, older than fileFormat when the file needs a migration.
func (s *Store) initTx(tx *bolt.Tx) (byte, error) {
	for _, name := range append([][]byte{bucketRecords, bucketIntents, bucketBodies}, derivedBuckets...) {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return 0, err
		}
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return 0, err
	}
	format, err := checkFormat(meta)
	if err != nil {
		return 0, err
	}
	s.nodeID, err = loadNodeID(meta)
	return format, err
}

// checkFormat writes the file format on a new file and returns the format
// of the file, rejecting a format this code does not know.
func checkFormat(meta *bolt.Bucket) (byte, error) {
	v := meta.Get(metaFormat)
	if v == nil {
		return fileFormat, meta.Put(metaFormat, []byte{fileFormat})
	}
	if len(v) != 1 || v[0] < fileFormatV1 || v[0] > fileFormat {
		return 0, fmt.Errorf("unknown file format %v (want %d to %d)", v, fileFormatV1, fileFormat)
	}
	return v[0], nil
}

// loadNodeID returns the stored node ID, making and storing one on first use.
func loadNodeID(meta *bolt.Bucket) (string, error) {
	if v := meta.Get(metaNodeID); v != nil {
		id, err := ulid.ParseStrict(string(v))
		if err != nil {
			return "", fmt.Errorf("stored node id %q: %w", v, err)
		}
		return id.String(), nil
	}
	id, err := ulid.New(ulid.Now(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("make node id: %w", err)
	}
	return id.String(), meta.Put(metaNodeID, []byte(id.String()))
}

// NodeID is this node's ID: a ULID made on the first Open of the file.
func (s *Store) NodeID() string { return s.nodeID }

// Close waits for running transactions and closes the file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("journal: close: %w", err)
	}
	s.log.Debug("journal closed")
	return nil
}

// ctxErr wraps a done context's error for operation op.
func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("journal: %s: %w", op, err)
	}
	return nil
}
