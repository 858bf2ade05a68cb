package evict

import (
	"errors"
	"fmt"
)

// Mode selects the eviction algorithm.
type Mode uint8

const (
	// ModeS3FIFO is size-aware S3-FIFO, the default.
	ModeS3FIFO Mode = iota
	// ModeLRU is least-recently-used, kept as the reference to compare
	// against; a hit moves the entry in its list.
	ModeLRU
)

func (m Mode) String() string {
	switch m {
	case ModeS3FIFO:
		return "s3fifo"
	case ModeLRU:
		return "lru"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode reads a Mode's String form, for flags.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "s3fifo":
		return ModeS3FIFO, nil
	case "lru":
		return ModeLRU, nil
	}
	return 0, fmt.Errorf("evict: unknown mode %q (want s3fifo or lru)", s)
}

// Defaults of Options' zero fields.
const (
	// DefaultSmallFraction is the small FIFO's share of the capacity, as
	// in the S3-FIFO paper.
	DefaultSmallFraction = 0.1
	// DefaultMaxObjectFraction is the largest object Admit takes, as a
	// share of the capacity: one object may not displace more than a
	// quarter of the cache.
	DefaultMaxObjectFraction = 0.25
)

// Options configure a Policy. The zero value is S3-FIFO with the defaults.
type Options struct {
	// Mode is the algorithm; zero is ModeS3FIFO.
	Mode Mode
	// SmallFraction is the small FIFO's share of the capacity, in (0, 1);
	// zero means DefaultSmallFraction. Unused by ModeLRU.
	SmallFraction float64
	// MaxObjectFraction: Admit declines an object larger than this share
	// of the capacity, in (0, 1]; zero means DefaultMaxObjectFraction and
	// 1 admits all that fit. Put ignores it: a write must be stored.
	MaxObjectFraction float64
	// SecondMiss makes Admit take a key only on its second miss while the
	// first is still remembered by the ghost FIFO: for buckets read by
	// scans, where most objects are read once.
	SecondMiss bool
	// TakeReads, when set, lets the caller count reads itself (with an
	// atomic, say) instead of calling Access, whose mutex a hot read path
	// may not afford. When an entry reaches the tail of its FIFO the
	// policy calls TakeReads(key) for the reads counted since the last
	// call and adds them to the entry's counter, capped; the caller resets
	// its count. It is called with the policy's lock held and must not
	// call the Policy. ModeLRU ignores it: there a read moves the entry.
	TakeReads func(key string) int
}

// DefaultOptions returns the Options a zero value stands for, spelled out.
func DefaultOptions() Options {
	return Options{Mode: ModeS3FIFO, SmallFraction: DefaultSmallFraction, MaxObjectFraction: DefaultMaxObjectFraction}
}

// Validate reports options out of range.
func (o Options) Validate() error {
	var errs []error
	if o.Mode != ModeS3FIFO && o.Mode != ModeLRU {
		errs = append(errs, fmt.Errorf("evict: unknown mode %d", o.Mode))
	}
	if o.SmallFraction < 0 || o.SmallFraction >= 1 {
		errs = append(errs, fmt.Errorf("evict: small fraction %g not in [0, 1)", o.SmallFraction))
	}
	if o.MaxObjectFraction < 0 || o.MaxObjectFraction > 1 {
		errs = append(errs, fmt.Errorf("evict: max object fraction %g not in [0, 1]", o.MaxObjectFraction))
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.SmallFraction == 0 {
		o.SmallFraction = DefaultSmallFraction
	}
	if o.MaxObjectFraction == 0 {
		o.MaxObjectFraction = DefaultMaxObjectFraction
	}
	return o
}
