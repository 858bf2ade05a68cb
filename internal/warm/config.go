package warm

import (
	"errors"
	"fmt"
	"log/slog"
)

// Config bounds a Manager. The zero value of each field means its default.
type Config struct {
	// MaxRunning is how many jobs may run at once; 0 means 4.
	MaxRunning int
	// MaxKept is how many jobs, running or ended, the Manager remembers;
	// 0 means 64. The oldest ended job is forgotten first.
	MaxKept int
	// DefaultConcurrency is the prefetches in flight of a job that names
	// none; 0 means 8.
	DefaultConcurrency int
	// MaxConcurrency is the most prefetches in flight a job may ask for;
	// 0 means 64.
	MaxConcurrency int
	// MaxKeys is the most keys a request may list; 0 means 100,000.
	MaxKeys int
	// Logger receives job starts and ends; nil discards them.
	Logger *slog.Logger
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	set := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	set(&c.MaxRunning, 4)
	set(&c.MaxKept, 64)
	set(&c.DefaultConcurrency, 8)
	set(&c.MaxConcurrency, 64)
	set(&c.MaxKeys, 100_000)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a bound that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.MaxRunning < 0 || c.MaxKept < 0 || c.DefaultConcurrency < 0 || c.MaxConcurrency < 0 || c.MaxKeys < 0:
		return errors.New("warm: config: bounds must not be negative")
	case c.MaxKept < c.MaxRunning:
		return fmt.Errorf("warm: config: MaxKept %d is less than MaxRunning %d", c.MaxKept, c.MaxRunning)
	case c.DefaultConcurrency > c.MaxConcurrency:
		return fmt.Errorf("warm: config: DefaultConcurrency %d is above MaxConcurrency %d", c.DefaultConcurrency, c.MaxConcurrency)
	}
	return nil
}

// The errors of Start. A missing bucket wraps objstore.ErrNoSuchBucket.
var (
	// ErrInvalid means the request is malformed: no bucket, both or neither
	// of prefix and keys, a concurrency out of range, too many keys.
	ErrInvalid = errors.New("invalid warm-up request")
	// ErrBusy means MaxRunning jobs are running already.
	ErrBusy = errors.New("too many warm-up jobs running")
	// ErrClosed means the Manager is shutting down.
	ErrClosed = errors.New("warm-up is shutting down")
)
