package disk

import (
	"errors"
	"log/slog"
)

// Config configures a Store.
type Config struct {
	// Quota is the most bytes that committed bodies and bodies being written
	// may take together; a Write that would pass it fails. 0 means no quota
	// beyond the size of the disk.
	Quota int64
	// NodeID is the ID of the node that owns the directory. Open writes it
	// into the directory's owner file at first use and refuses a directory
	// whose owner file names another node. Empty checks nothing, and then
	// Sweep moves bodies aside instead of removing them, since the
	// directory is not proven this node's.
	NodeID string
	// Logger receives warnings such as removed corrupt bodies; nil discards.
	Logger *slog.Logger
	// FsyncEach makes Commit fsync each new body and its directory, as
	// every commit did before group commits: for a files directory that
	// shares its file system with busy writers, whose dirty data a group
	// sync would write too (durable.Barrier). Where the system has no
	// usable syncfs, every commit fsyncs each body anyway.
	FsyncEach bool
}

// GroupCommitMax is the largest new body that Commit makes durable with a
// group sync (durable.Barrier). A larger one is fsynced on its own: its
// sync is mostly its own bytes, which a group would not share, and a group
// sync would make the small writers that share it wait for them (measured
// in docs/DESIGN.md, "Group commit of bodies").
const GroupCommitMax = 256 << 10

// DefaultConfig returns a Config with no quota and no logging.
func DefaultConfig() Config { return Config{} }

// Validate reports whether c is usable.
func (c Config) Validate() error {
	if c.Quota < 0 {
		return errors.New("disk: quota must not be negative")
	}
	return nil
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}
