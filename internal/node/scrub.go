package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

// The scrubber re-reads every body on this node's disk, one pass per
// Period at no more than Rate bytes a second, and reports those that fail
// their checksum (ReportCorrupt), which repairs them. It walks the journal
// (the records say which bodies should be here and what they hold), not
// the directories; a record whose body is not here costs one failed open.
// It writes nothing to the journal: its place in the pass goes to a small
// state file every scrubSaveEvery and at shutdown, so a restart resumes
// the pass where it stopped instead of starting over (with restarts more
// frequent than the period a pass would otherwise never end). Without a
// state file each start begins a pass.

// ScrubConfig says how the background scrubber re-reads the bodies.
type ScrubConfig struct {
	// Period is how often a pass over every body starts (a pass that
	// takes longer is followed by the next at once, with a warning); 0
	// turns the scrubber off.
	Period time.Duration
	// Rate caps the bytes read per second; 0 means DefaultScrubRate. A
	// body is read in one go, and the scrubber then rests for as long as
	// reading it at Rate would have taken.
	Rate int64
	// StateFile keeps the place in the pass across restarts; "" keeps none.
	StateFile string
}

// Defaults of the scrubber, as cmd/objstore sets them.
const (
	DefaultScrubPeriod = 7 * 24 * time.Hour
	DefaultScrubRate   = 16 << 20
)

// Validate reports a scrub configuration that cannot work.
func (c ScrubConfig) Validate() error {
	if c.Period < 0 {
		return fmt.Errorf("node: config: scrub period %s is negative (0 turns the scrubber off)", c.Period)
	}
	if c.Rate < 0 {
		return fmt.Errorf("node: config: scrub rate %d bytes/s is negative", c.Rate)
	}
	return nil
}

// ScrubStats are the scrubber's figures, in Stats.
type ScrubStats struct {
	// Bytes and Bodies count what was re-read since start.
	Bytes  int64 `json:"bytes_scrubbed"`
	Bodies int64 `json:"bodies_scrubbed"`
	// PassStarted is when the pass in progress, or the last one, began.
	PassStarted *time.Time `json:"pass_started,omitempty"`
	// LastFullPass is when the last complete pass ended (kept across
	// restarts with the state file); nil before the first.
	LastFullPass *time.Time `json:"last_full_pass,omitempty"`
	// Period and Rate are the configuration.
	Period string `json:"period"`
	Rate   int64  `json:"rate_bytes_per_second"`
}

const (
	// scrubSaveEvery is how often the place in a pass is saved.
	scrubSaveEvery = 30 * time.Second
	// scrubBurst caps the credit a pause earns the pacer: after it the
	// scrubber reads at most this much of Rate at full speed.
	scrubBurst = time.Second
	// scrubRetry is the pause after a pass that failed (journal error).
	scrubRetry = time.Minute
)

// scrubClock is the time the scrubber paces and schedules by; tests give
// one that never sleeps.
type scrubClock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// scrubState is the place of the scrubber, as saved in the state file.
type scrubState struct {
	PassStarted  time.Time `json:"pass_started"`
	LastFullPass time.Time `json:"last_full_pass"`
	// InPass reports a pass in progress, which has scrubbed every record
	// up to and including Bucket/ID (none yet when both are empty).
	InPass bool   `json:"in_pass"`
	Bucket string `json:"bucket,omitempty"`
	ID     string `json:"id,omitempty"`
}

// after reports whether key comes after the state's place, in the
// journal's order (bucket, then ID, both bytewise).
func (st scrubState) after(key objstore.Key) bool {
	if key.Bucket != st.Bucket {
		return key.Bucket > st.Bucket
	}
	return key.ID > st.ID
}

// scrubDeps are what the scrubber reads and whom it tells.
type scrubDeps struct {
	records interface {
		Range(ctx context.Context, fn func(objstore.Record) bool) error
	}
	bodies interface {
		Scrub(key objstore.Key, v objstore.Version, sum objstore.Checksum) error
	}
	report func(key objstore.Key, v objstore.Version, cause error)
}

type scrubber struct {
	cfg   ScrubConfig
	deps  scrubDeps
	log   *slog.Logger
	clock scrubClock

	bytes, bodies atomic.Int64
	mu            sync.Mutex // guards st
	st            scrubState
}

func newScrubber(cfg ScrubConfig, deps scrubDeps, log *slog.Logger, clock scrubClock) *scrubber {
	if cfg.Rate == 0 {
		cfg.Rate = DefaultScrubRate
	}
	return &scrubber{cfg: cfg, deps: deps, log: log, clock: clock}
}

// startIntegrityLoops starts the repair workers and, when configured, the
// scrubber; Close stops them.
func (n *Node) startIntegrityLoops() {
	for range repairWorkers {
		n.goLoop(n.repairLoop)
	}
	if n.cfg.Scrub.Period == 0 {
		return
	}
	n.scrub = newScrubber(n.cfg.Scrub, scrubDeps{records: n.journal, bodies: n.blobs, report: n.ReportCorrupt},
		n.log.With("part", "scrub"), wallClock{})
	n.goLoop(n.scrub.run)
}

func (s *scrubber) stats() ScrubStats {
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
	out := ScrubStats{Bytes: s.bytes.Load(), Bodies: s.bodies.Load(), Period: s.cfg.Period.String(), Rate: s.cfg.Rate}
	if !st.PassStarted.IsZero() {
		out.PassStarted = &st.PassStarted
	}
	if !st.LastFullPass.IsZero() {
		out.LastFullPass = &st.LastFullPass
	}
	return out
}

func (s *scrubber) set(st scrubState) {
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
}

// run makes passes until ctx ends, each Period after the last one began.
func (s *scrubber) run(ctx context.Context) {
	st := s.load()
	s.set(st)
	for {
		if !st.InPass {
			if !st.PassStarted.IsZero() && !s.sleep(ctx, st.PassStarted.Add(s.cfg.Period).Sub(s.clock.Now())) {
				return
			}
			st = scrubState{PassStarted: s.clock.Now(), LastFullPass: st.LastFullPass, InPass: true}
			s.set(st)
			s.log.Info("scrub pass starting", "period", s.cfg.Period, "rate", s.cfg.Rate)
		}
		err := s.pass(ctx, &st)
		if ctx.Err() != nil {
			s.save(st)
			return
		}
		if err != nil {
			s.log.Warn("scrub pass failed; resuming in a minute", "err", err)
			if !s.sleep(ctx, scrubRetry) {
				return
			}
			continue
		}
		st = scrubState{PassStarted: st.PassStarted, LastFullPass: s.clock.Now()}
		s.set(st)
		s.save(st)
		took := st.LastFullPass.Sub(st.PassStarted)
		if took > s.cfg.Period {
			s.log.Warn("scrub pass took longer than its period; raise --scrub-rate or --scrub-period", "took", took, "period", s.cfg.Period)
		} else {
			s.log.Info("scrub pass done", "took", took, "bodies", s.bodies.Load(), "bytes", s.bytes.Load())
		}
	}
}

// sleep waits d or until ctx ends, and reports whether ctx is still live.
func (s *scrubber) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-s.clock.After(d):
		return true
	}
}

// pass scrubs the records after st's place, moving the place along.
func (s *scrubber) pass(ctx context.Context, st *scrubState) error {
	p := &pacer{rate: float64(s.cfg.Rate), clock: s.clock}
	resume := st.Bucket != "" || st.ID != ""
	saved := s.clock.Now()
	err := s.deps.records.Range(ctx, func(rec objstore.Record) bool {
		if resume && !st.after(rec.Key) {
			return true
		}
		read := s.scrubOne(rec)
		st.Bucket, st.ID = rec.Key.Bucket, rec.Key.ID
		s.set(*st)
		if now := s.clock.Now(); now.Sub(saved) >= scrubSaveEvery {
			s.save(*st)
			saved = now
		}
		return p.take(ctx, read) == nil
	})
	if err != nil {
		return fmt.Errorf("node: scrub: %w", err)
	}
	return ctx.Err()
}

// scrubOne re-reads rec's body, if this node holds it, reports it when it
// is corrupt, and returns the bytes read.
func (s *scrubber) scrubOne(rec objstore.Record) int64 {
	if rec.Deleted || rec.Lost {
		return 0
	}
	err := s.deps.bodies.Scrub(rec.Key, rec.BodyVersion, rec.Sum)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return 0 // not held here (evicted, level 1 elsewhere, not pulled yet)
	case errors.Is(err, objstore.ErrChecksum):
		s.deps.report(rec.Key, rec.BodyVersion, err)
	case err != nil:
		s.log.Warn("scrub could not read a body", "bucket", rec.Key.Bucket, "key", rec.Key.ID, "err", err)
		return 0
	}
	s.bodies.Add(1)
	s.bytes.Add(rec.Size())
	return rec.Size()
}

// load reads the state file; a missing or unreadable one starts afresh.
func (s *scrubber) load() scrubState {
	var st scrubState
	if s.cfg.StateFile == "" {
		return st
	}
	b, err := os.ReadFile(s.cfg.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return st
	}
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		s.log.Warn("scrub state unreadable; starting a new pass", "file", s.cfg.StateFile, "err", err)
		return scrubState{}
	}
	return st
}

// save writes st to the state file, durably; a failure costs only the
// place (the next start scrubs again from an earlier one).
func (s *scrubber) save(st scrubState) {
	if s.cfg.StateFile == "" {
		return
	}
	b, err := json.Marshal(st)
	if err == nil {
		err = durable.WriteFile(s.cfg.StateFile, b, 0o600)
	}
	if err != nil {
		s.log.Warn("cannot save the scrub state", "file", s.cfg.StateFile, "err", err)
	}
}

// pacer holds reads to rate bytes a second on average.
type pacer struct {
	rate  float64 // bytes per second
	clock scrubClock
	// due is when the bytes taken so far have been paid for at rate.
	due time.Time
}

// take accounts n bytes just read and waits until reading them at rate
// would have ended. Idle time earns at most scrubBurst of credit, so in
// any window the bytes read are at most rate × (window + scrubBurst) plus
// the last body.
func (p *pacer) take(ctx context.Context, n int64) error {
	now := p.clock.Now()
	if floor := now.Add(-scrubBurst); p.due.Before(floor) {
		p.due = floor
	}
	p.due = p.due.Add(time.Duration(math.Ceil(float64(n) / p.rate * float64(time.Second))))
	d := p.due.Sub(now)
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-p.clock.After(d):
		return nil
	}
}
