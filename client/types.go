package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Level is an object's consistency level.
type Level int

// The consistency levels.
const (
	// Local: the write answers once the body is durable on the node's disk.
	Local Level = 0
	// Origin: the write answers once the body is also in the origin (S3).
	Origin Level = 1
	// Full: as Origin, and every node of the cluster keeps a copy.
	Full Level = 2
)

// ParseLevel reads "0", "1" or "2".
func ParseLevel(s string) (Level, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 2 {
		return 0, fmt.Errorf("level %q: want 0, 1 or 2", s)
	}
	return Level(n), nil
}

func (l Level) valid() bool { return l >= Local && l <= Full }

// Meta is an object's record, as /api/v1/meta answers it.
type Meta struct {
	ID   string `json:"file_id"`
	Name string `json:"file_name"`
	Size int64  `json:"file_size"`
	// Timestamp is when this version was written, in nanoseconds since
	// the epoch (the original API's unit).
	Timestamp int64           `json:"timestamp"`
	UserMeta  json.RawMessage `json:"user_meta"`
	// Symlink says the node that answered does not hold the body: a read
	// streams it from another node or the origin.
	Symlink bool  `json:"is_symlink"`
	Level   Level `json:"consistency"`
	Deleted bool  `json:"is_deleted"`

	Bucket       string  `json:"bucket"`
	ContentType  string  `json:"content_type,omitempty"`
	ETag         string  `json:"etag,omitempty"`
	CRC32C       string  `json:"crc32c,omitempty"`
	LastModified string  `json:"last_modified"`
	Version      Version `json:"version"`
	// InRemote says the body is in the origin.
	InRemote bool `json:"in_remote"`
	// Lost says the body's only copy failed its checksum.
	Lost bool `json:"lost,omitempty"`
}

// compact removes the indentation a node's JSON answer gives UserMeta.
func (m *Meta) compact() {
	var b bytes.Buffer
	if len(m.UserMeta) > 0 && json.Compact(&b, m.UserMeta) == nil {
		m.UserMeta = b.Bytes()
	}
}

// Modified is when this version was written.
func (m Meta) Modified() time.Time { return time.Unix(0, m.Timestamp) }

// Version orders an object's writes: a hybrid logical clock reading and
// the writer's node ID.
type Version struct {
	HLC  uint64 `json:"hlc"`
	Node string `json:"node"`
}

// Member is a node of the cluster, as /api/v1/nodes lists it.
type Member struct {
	ID string `json:"id"`
	// Addr is its private address (gossip and the private API), not its
	// public one.
	Addr string `json:"addr"`
	// State is "alive", "suspect", "dead" or "left".
	State string `json:"state"`
	// Self marks the node that answered.
	Self bool `json:"self,omitempty"`
}

// Stats are a node's figures from /api/v1/stats: the ones most asked for,
// typed, and the whole answer in Raw.
type Stats struct {
	NodeID  string       `json:"node_id"`
	Disk    DiskStats    `json:"disk_stats"`
	Objects ObjectCounts `json:"objects"`
	Hits    struct {
		Local  int64 `json:"local"`
		Peer   int64 `json:"peer"`
		Remote int64 `json:"remote"`
	} `json:"hits"`
	Misses  int64    `json:"misses"`
	Nodes   []Member `json:"nodes"`
	Origin  *Health  `json:"origin,omitempty"`
	Savings Savings  `json:"savings"`
	// Raw is the node's whole answer, for the figures not typed here.
	Raw json.RawMessage `json:"-"`
}

// DiskStats describe the file system of the node's bodies.
type DiskStats struct {
	Total  uint64 `json:"bytes_all"`
	Used   uint64 `json:"bytes_used"`
	Free   uint64 `json:"bytes_free"`
	Bodies int64  `json:"bodies_bytes"`
	// Quota is --disk-quota; 0 means the watermarks of the file system.
	Quota int64 `json:"quota_bytes"`
}

// ObjectCounts summarise the node's journal.
type ObjectCounts struct {
	Objects    int64 `json:"objects"`
	Bytes      int64 `json:"bytes"`
	Tombstones int64 `json:"tombstones"`
}

// Health is the origin's state: "ok", "access_denied", "no_such_bucket",
// "no_credentials", "wrong_region", "unreachable" or "error".
type Health struct {
	State   string    `json:"state"`
	Error   string    `json:"error,omitempty"`
	Since   time.Time `json:"since"`
	Checked time.Time `json:"checked"`
}

// Savings are what the cache saved since the node started.
type Savings struct {
	Since time.Time `json:"since"`
	Total struct {
		Memory  Count `json:"memory"`
		Disk    Count `json:"disk"`
		Peer    Count `json:"peer"`
		Origin  Count `json:"origin"`
		Avoided Count `json:"origin_gets_avoided"`
	} `json:"total"`
	// USDSaved is the net saving in US dollars at the node's prices.
	USDSaved float64 `json:"usd_saved"`
}

// Count is a number of reads and their bytes.
type Count struct {
	Requests int64 `json:"requests"`
	Bytes    int64 `json:"bytes"`
}

// WarmRequest is a warm-up job: every key of Bucket under Prefix, or the
// Keys listed. Use WarmPrefix or WarmKeys to make one.
type WarmRequest struct {
	Bucket string   `json:"bucket"`
	Prefix *string  `json:"prefix,omitempty"`
	Keys   []string `json:"keys,omitempty"`
	// Concurrency is how many objects are fetched at once (1 to 64); 0
	// means the node's default (8).
	Concurrency int `json:"concurrency,omitempty"`
}

// WarmPrefix is a warm-up of every key under prefix ("" is the whole
// bucket).
func WarmPrefix(bucket, prefix string) WarmRequest {
	return WarmRequest{Bucket: bucket, Prefix: &prefix}
}

// WarmKeys is a warm-up of the keys listed.
func WarmKeys(bucket string, keys ...string) WarmRequest {
	return WarmRequest{Bucket: bucket, Keys: keys}
}

// The states of a warm-up job.
const (
	WarmRunning = "running"
	WarmDone    = "done"
	WarmFailed  = "failed"
)

// WarmJob is a warm-up job's progress.
type WarmJob struct {
	ID          string  `json:"id"`
	Bucket      string  `json:"bucket"`
	Prefix      *string `json:"prefix,omitempty"`
	Concurrency int     `json:"concurrency"`
	// State is WarmRunning, WarmDone (every key was tried) or WarmFailed
	// (the job stopped early, Error says why).
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	// Listed keys were found or given; Done were fetched, Cached of them
	// were held already; Failed were not (Errors names the first ones).
	Listed       int64      `json:"listed"`
	Done         int64      `json:"done"`
	Cached       int64      `json:"cached"`
	Failed       int64      `json:"failed"`
	BytesFetched int64      `json:"bytes_fetched"`
	Errors       []string   `json:"errors,omitempty"`
	Started      time.Time  `json:"started"`
	Ended        *time.Time `json:"ended,omitempty"`
}
