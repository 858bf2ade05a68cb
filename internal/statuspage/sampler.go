package statuspage

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/savings"
)

// Source is what the Sampler reads: the node's stats.
type Source interface {
	Stats(ctx context.Context) (node.Stats, error)
}

// Config configures a Sampler.
type Config struct {
	// Interval is the time between two samples; zero means 5 s.
	Interval time.Duration
	// Samples is how many samples the ring keeps; zero means 180 (15 min
	// at the default interval).
	Samples int
	// Prices price the savings of each sample; zero prices nothing.
	Prices savings.Prices
	// Logger receives sampling errors; nil discards them.
	Logger *slog.Logger
}

// DefaultInterval and DefaultSamples are what zero means in Config.
const (
	DefaultInterval = 5 * time.Second
	DefaultSamples  = 180
)

// Validate reports a configuration that cannot sample.
func (c Config) Validate() error {
	if c.Interval < 0 {
		return errors.New("statuspage: sample interval must not be negative")
	}
	if c.Interval != 0 && c.Interval < 100*time.Millisecond {
		return errors.New("statuspage: sample interval must be at least 100ms")
	}
	if c.Samples < 0 {
		return errors.New("statuspage: samples must not be negative")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Samples == 0 {
		c.Samples = DefaultSamples
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Sampler keeps the last Config.Samples samples of a Source's counters,
// taken every Config.Interval by a goroutine that Start starts and Close
// stops.
type Sampler struct {
	cfg Config
	src Source

	mu   sync.Mutex // guards ring, next and full
	ring []Sample
	next int  // where the next sample goes
	full bool // the ring has wrapped

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewSampler returns a Sampler of src; it samples once Start is called.
func NewSampler(cfg Config, src Source) (*Sampler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Sampler{cfg: cfg, src: src, ring: make([]Sample, cfg.Samples)}, nil
}

// Interval is the time between two samples.
func (s *Sampler) Interval() time.Duration { return s.cfg.Interval }

// Window is the time the ring of samples covers.
func (s *Sampler) Window() time.Duration { return s.cfg.Interval * time.Duration(s.cfg.Samples) }

// Prices are the prices the samples' savings are reckoned at.
func (s *Sampler) Prices() savings.Prices { return s.cfg.Prices }

// Start takes a first sample and starts sampling every interval until
// Close. It must be called at most once.
func (s *Sampler) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.sample(ctx)
	s.wg.Go(func() {
		t := time.NewTicker(s.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sample(ctx)
			}
		}
	})
}

// Close stops the sampling goroutine and waits for it.
func (s *Sampler) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

func (s *Sampler) sample(ctx context.Context) {
	st, err := s.src.Stats(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.cfg.Logger.Warn("status page: no sample this time", "err", err)
		}
		return
	}
	s.Add(SampleOf(time.Now(), st, s.cfg.Prices))
}

// Add appends a sample, dropping the oldest when the ring is full.
func (s *Sampler) Add(x Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ring[s.next] = x
	s.next = (s.next + 1) % len(s.ring)
	if s.next == 0 {
		s.full = true
	}
}

// Samples returns the samples kept, oldest first.
func (s *Sampler) Samples() []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.full {
		return append([]Sample(nil), s.ring[:s.next]...)
	}
	out := make([]Sample, 0, len(s.ring))
	out = append(out, s.ring[s.next:]...)
	return append(out, s.ring[:s.next]...)
}
