package multipart

import (
	"errors"
	"log/slog"
	"time"
)

// The limits S3 sets on multipart uploads.
const (
	// DefaultMinPartSize is the least size of every part of a completed
	// upload but the last: 5 MiB.
	DefaultMinPartSize int64 = 5 << 20
	// DefaultMaxPartSize is the largest part: 5 GiB.
	DefaultMaxPartSize int64 = 5 << 30
	// MaxParts is the highest part number, and so the most parts of an upload.
	MaxParts = 10000
	// DefaultMaxList is the most entries ListParts and ListUploads return
	// when asked for 0 or fewer.
	DefaultMaxList = 1000
)

// Config configures a Store.
type Config struct {
	// Dir is the directory that holds the uploads; Open creates it. One
	// Store uses it at a time. Required.
	Dir string
	// MinPartSize is the least size, in bytes, of every part of a completed
	// upload but the last. 0 means DefaultMinPartSize.
	MinPartSize int64
	// MaxPartSize is the largest part, in bytes, that PutPart accepts.
	// 0 means DefaultMaxPartSize.
	MaxPartSize int64
	// Now reads the clock for initiation times, part times and Expire.
	// Nil means time.Now.
	Now func() time.Time
	// Logger receives notes on recovery at Open and on expiry; nil discards.
	Logger *slog.Logger
	// Space is the disk quota that staged parts count against, shared
	// with the node's bodies (a *disk.Store); nil means no quota.
	Space Space
}

// Space books bytes on a shared disk quota.
type Space interface {
	// Reserve books n bytes, or fails with an error wrapping
	// objstore.ErrInsufficientStorage, booking nothing, when the quota
	// would be passed.
	Reserve(n int64) error
	// Book books n bytes even past the quota: for files already on disk.
	Book(n int64)
	// Release returns n booked bytes.
	Release(n int64)
}

// unlimited is the Space of a Store without a quota.
type unlimited struct{}

func (unlimited) Reserve(int64) error { return nil }
func (unlimited) Book(int64)          {}
func (unlimited) Release(int64)       {}

// DefaultConfig returns a Config with S3's part sizes and no Dir.
func DefaultConfig() Config {
	return Config{MinPartSize: DefaultMinPartSize, MaxPartSize: DefaultMaxPartSize}
}

// Validate reports whether c is usable.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("multipart: config: dir is required")
	case c.MinPartSize < 0, c.MaxPartSize < 0:
		return errors.New("multipart: config: part sizes must not be negative")
	case c.withDefaults().MinPartSize > c.withDefaults().MaxPartSize:
		return errors.New("multipart: config: min part size exceeds max part size")
	}
	return nil
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MinPartSize == 0 {
		c.MinPartSize = DefaultMinPartSize
	}
	if c.MaxPartSize == 0 {
		c.MaxPartSize = DefaultMaxPartSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Space == nil {
		c.Space = unlimited{}
	}
	return c
}
