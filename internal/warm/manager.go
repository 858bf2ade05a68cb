package warm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/oklog/ulid/v2"

	"sphere.software/objstore"
)

// Source is what warm-up needs of a node.
type Source interface {
	// CheckBucket fails, wrapping objstore.ErrNoSuchBucket, when the
	// bucket does not exist.
	CheckBucket(ctx context.Context, bucket string) error
	// List returns a page of the bucket's keys as the cluster sees them.
	List(ctx context.Context, bucket string, q objstore.ListQuery) (objstore.ListPage, error)
	// Prefetch caches key's body and returns the bytes it fetched.
	Prefetch(ctx context.Context, key objstore.Key) (int64, error)
}

// Manager starts, tracks and stops warm-up jobs.
type Manager struct {
	cfg Config
	src Source
	log *slog.Logger

	// ctx is the jobs'; Close cancels it and waits for wg.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex // guards jobs, order and closed
	jobs   map[string]*job
	order  []*job // oldest first
	closed bool
}

// New returns a Manager that warms through src.
func New(cfg Config, src Source) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{cfg: cfg, src: src, log: cfg.Logger, ctx: ctx, cancel: cancel, jobs: make(map[string]*job)}, nil
}

// Start checks req and its bucket (within ctx, the caller's) and starts a
// job; it returns the job's first progress. Errors wrap ErrInvalid,
// ErrBusy, ErrClosed or, for a missing bucket, objstore.ErrNoSuchBucket.
func (m *Manager) Start(ctx context.Context, req Request) (Progress, error) {
	if err := req.check(m.cfg); err != nil {
		return Progress{}, err
	}
	if err := m.src.CheckBucket(ctx, req.Bucket); err != nil {
		return Progress{}, fmt.Errorf("warm: bucket %q: %w", req.Bucket, err)
	}
	j, err := m.register(req)
	if err != nil {
		return Progress{}, err
	}
	m.log.Info("warm-up started", "job", j.id, "bucket", req.Bucket, "keys", len(req.Keys), "concurrency", req.Concurrency)
	p := j.progress() // before the job runs: it may end at once
	go m.run(j)
	return p, nil
}

// register adds a job, forgetting the oldest ended ones beyond MaxKept.
func (m *Manager) register(req Request) (*job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	running := 0
	for _, j := range m.order {
		if j.running() {
			running++
		}
	}
	if running >= m.cfg.MaxRunning {
		return nil, fmt.Errorf("%w: %d running; try again when one is done", ErrBusy, running)
	}
	j := newJob(ulid.Make().String(), req)
	m.jobs[j.id] = j
	m.order = append(m.order, j)
	m.forgetEndedLocked()
	m.wg.Add(1) // before Close can wait: closed is false under mu
	return j, nil
}

func (m *Manager) forgetEndedLocked() {
	for i := 0; len(m.order) > m.cfg.MaxKept && i < len(m.order); {
		if j := m.order[i]; !j.running() {
			delete(m.jobs, j.id)
			m.order = append(m.order[:i], m.order[i+1:]...)
			continue
		}
		i++
	}
}

// Job returns the progress of job id, if the Manager remembers it.
func (m *Manager) Job(id string) (Progress, bool) {
	m.mu.Lock()
	j, ok := m.jobs[id]
	m.mu.Unlock()
	if !ok {
		return Progress{}, false
	}
	return j.progress(), true
}

// Wait blocks until job id has ended, or ctx is done, and returns its
// progress; false when the Manager does not remember the job.
func (m *Manager) Wait(ctx context.Context, id string) (Progress, bool, error) {
	m.mu.Lock()
	j, ok := m.jobs[id]
	m.mu.Unlock()
	if !ok {
		return Progress{}, false, nil
	}
	select {
	case <-j.end:
		return j.progress(), true, nil
	case <-ctx.Done():
		return j.progress(), true, fmt.Errorf("warm: wait for %s: %w", id, ctx.Err())
	}
}

// Close stops every job and waits for them, or until ctx is done. Jobs
// stopped so end as failed; no job starts after Close.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("warm: close: %w", ctx.Err())
	}
}

// run prefetches the job's keys with Concurrency workers while feed lists
// them.
func (m *Manager) run(j *job) {
	defer m.wg.Done()
	keys := make(chan string)
	var workers sync.WaitGroup
	for range j.req.Concurrency {
		workers.Go(func() {
			for k := range keys {
				n, err := m.src.Prefetch(m.ctx, objstore.Key{Bucket: j.req.Bucket, ID: k})
				j.record(m.ctx, k, n, err)
			}
		})
	}
	err := m.feed(j, keys)
	close(keys)
	workers.Wait()
	if err == nil && m.ctx.Err() != nil {
		err = errors.New("stopped: the node is shutting down")
	}
	j.finish(err)
	p := j.progress()
	m.log.Info("warm-up ended", "job", j.id, "state", p.State, "listed", p.Listed, "done", p.Done,
		"cached", p.Cached, "failed", p.Failed, "bytes_fetched", p.BytesFetched, "err", p.Error)
}

// feed sends the job's keys: the listed ones, or every key under the
// prefix, page by page from the node's merged listing.
func (m *Manager) feed(j *job, keys chan<- string) error {
	if j.req.Prefix == nil {
		j.listed.Store(int64(len(j.req.Keys)))
		m.send(keys, j.req.Keys)
		return nil
	}
	q := objstore.ListQuery{Prefix: *j.req.Prefix}
	for {
		page, err := m.src.List(m.ctx, j.req.Bucket, q)
		if err != nil {
			if m.ctx.Err() != nil {
				return nil // run reports the shutdown
			}
			return fmt.Errorf("list %q after %q: %w", *j.req.Prefix, q.StartAfter, err)
		}
		batch := make([]string, len(page.Objects))
		for i, o := range page.Objects {
			batch[i] = o.Key
		}
		j.listed.Add(int64(len(batch)))
		if !m.send(keys, batch) || !page.Truncated {
			return nil
		}
		q.StartAfter = page.Next
	}
}

// send hands keys to the workers; false means the Manager closed (run
// reports the shutdown).
func (m *Manager) send(keys chan<- string, batch []string) bool {
	for _, k := range batch {
		select {
		case keys <- k:
		case <-m.ctx.Done():
			return false
		}
	}
	return true
}
