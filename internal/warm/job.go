package warm

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The states of a job.
const (
	StateRunning = "running"
	// StateDone means every key was tried; some may have failed.
	StateDone = "done"
	// StateFailed means the job stopped early: the listing failed, or the
	// node shut down.
	StateFailed = "failed"
)

// maxErrors is how many failed keys a job reports by name.
const maxErrors = 10

// Progress is a job's state and figures.
type Progress struct {
	ID          string  `json:"id"`
	Bucket      string  `json:"bucket"`
	Prefix      *string `json:"prefix,omitempty"`
	Concurrency int     `json:"concurrency"`
	State       string  `json:"state"`
	// Error says why a failed job stopped.
	Error string `json:"error,omitempty"`
	// Listed keys were found (under the prefix) or given; Done were
	// prefetched, Cached of them were cached already, Failed were not.
	Listed int64 `json:"listed"`
	Done   int64 `json:"done"`
	Cached int64 `json:"cached"`
	Failed int64 `json:"failed"`
	// BytesFetched is what the job's own fills read from the origin.
	BytesFetched int64 `json:"bytes_fetched"`
	// Errors name the first failed keys and why.
	Errors  []string   `json:"errors,omitempty"`
	Started time.Time  `json:"started"`
	Ended   *time.Time `json:"ended,omitempty"`
}

// job is one warm-up in flight or ended.
type job struct {
	id      string
	req     Request
	started time.Time

	listed, done, cached, failed, bytes atomic.Int64

	end chan struct{} // closed by finish

	mu     sync.Mutex // guards the fields below
	state  string
	err    string
	errors []string
	ended  time.Time
}

func newJob(id string, req Request) *job {
	return &job{id: id, req: req, started: time.Now(), state: StateRunning, end: make(chan struct{})}
}

// record counts the outcome of one key. A prefetch cut short by the job's
// end is not a failed key.
func (j *job) record(ctx context.Context, key string, fetched int64, err error) {
	switch {
	case err != nil && ctx.Err() != nil:
	case err != nil:
		j.failed.Add(1)
		j.mu.Lock()
		if len(j.errors) < maxErrors {
			j.errors = append(j.errors, fmt.Sprintf("%s: %v", key, err))
		}
		j.mu.Unlock()
	default:
		j.done.Add(1)
		j.bytes.Add(fetched)
		if fetched == 0 {
			j.cached.Add(1)
		}
	}
}

// finish ends the job: failed when err is set, else done.
func (j *job) finish(err error) {
	j.mu.Lock()
	defer close(j.end)
	defer j.mu.Unlock()
	j.state, j.ended = StateDone, time.Now()
	if err != nil {
		j.state, j.err = StateFailed, err.Error()
	}
}

func (j *job) running() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.state == StateRunning
}

func (j *job) progress() Progress {
	p := Progress{ID: j.id, Bucket: j.req.Bucket, Prefix: j.req.Prefix, Concurrency: j.req.Concurrency,
		Listed: j.listed.Load(), Done: j.done.Load(), Cached: j.cached.Load(), Failed: j.failed.Load(),
		BytesFetched: j.bytes.Load(), Started: j.started}
	j.mu.Lock()
	defer j.mu.Unlock()
	p.State, p.Error, p.Errors = j.state, j.err, append([]string(nil), j.errors...)
	if !j.ended.IsZero() {
		ended := j.ended
		p.Ended = &ended
	}
	return p
}
