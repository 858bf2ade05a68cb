package s3

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/deadline"
)

// The probe's timing. While the origin is bad the probe backs off from
// probeMinDelay, doubling up to probeMaxDelay; while it is OK it probes
// every probeOKInterval, and sooner when a request's outcome disagrees with
// the state (see health.observe), at most every kickGap.
const (
	startProbeTimeout = 5 * time.Second
	probeTimeout      = 10 * time.Second
	probeMinDelay     = time.Second
	probeMaxDelay     = 30 * time.Second
	probeOKInterval   = 5 * time.Minute
	kickGap           = 5 * time.Second
)

// health is the origin's state as probes find it. Start runs the first
// probe and then a goroutine that probes again until Close.
type health struct {
	probe  func(ctx context.Context) error // one request about the bucket
	target target
	log    *slog.Logger

	mu        sync.Mutex // guards cur and lastProbe
	cur       objstore.OriginHealth
	lastProbe time.Time

	kick   chan struct{} // buffered 1: probe now
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has returned
}

func newHealth(probe func(context.Context) error, t target, log *slog.Logger) *health {
	return &health{probe: probe, target: t, log: log, kick: make(chan struct{}, 1)}
}

// get returns the current state.
func (h *health) get() objstore.OriginHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

// unreachable reports whether the last probe found no origin to talk to:
// requests then get one attempt, no retries.
func (h *health) unreachable() bool { return h.get().State == objstore.OriginUnreachable }

// start probes once, bounded by startProbeTimeout, so that the start-up
// log says what is wrong, then keeps probing in a goroutine until stop.
func (h *health) start(ctx context.Context) {
	first, cancel := context.WithTimeout(ctx, startProbeTimeout)
	h.check(first)
	cancel()
	ctx, h.cancel = context.WithCancel(ctx)
	h.done = make(chan struct{})
	go h.run(ctx)
}

// stop ends the goroutine and waits for it, at most until ctx ends.
func (h *health) stop(ctx context.Context) error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run probes again after each delay, or when kicked, until ctx ends.
func (h *health) run(ctx context.Context) {
	defer close(h.done)
	fails := 0
	timer := time.NewTimer(h.delay(fails))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-h.kick:
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		ok := h.check(pctx) == objstore.OriginOK
		cancel()
		if ctx.Err() != nil {
			return
		}
		fails++
		if ok {
			fails = 0
		}
		timer.Reset(h.delay(fails))
	}
}

// delay is the wait before the next probe after fails failed ones in a
// row (0: the origin is OK, or the first probe's outcome is not known).
func (h *health) delay(fails int) time.Duration {
	if h.get().State == objstore.OriginOK {
		return probeOKInterval
	}
	d := probeMinDelay
	for i := 1; i < fails && d < probeMaxDelay; i++ {
		d *= 2
	}
	return min(d, probeMaxDelay)
}

// check runs one probe, records the state and logs a change.
func (h *health) check(ctx context.Context) objstore.OriginState {
	err := h.probe(ctx)
	now := time.Now()
	next := objstore.OriginHealth{State: objstore.OriginOK, Since: now, Checked: now}
	var d diagnosis
	if err != nil {
		d = diagnose(err, h.target)
		next.State, next.Error = d.State, d.String()
	}
	h.mu.Lock()
	prev := h.cur
	if prev.State == next.State && prev.Error == next.Error {
		next.Since = prev.Since
	}
	h.cur, h.lastProbe = next, now
	h.mu.Unlock()
	h.logChange(prev, next, d, err)
	return next.State
}

// logChange logs a new state once: ERROR for what an operator must fix,
// WARN for an origin that does not answer, INFO when it is usable.
func (h *health) logChange(prev, next objstore.OriginHealth, d diagnosis, err error) {
	switch {
	case next.State == objstore.OriginOK && prev.State == "":
		h.log.Info("origin ok", "origin", h.target.where(), "bucket", h.target.Bucket)
	case next.State == objstore.OriginOK && prev.State != objstore.OriginOK:
		h.log.Info("origin ok again: level 1 and 2 writes and origin reads work", "origin", h.target.where(),
			"bucket", h.target.Bucket, "was", prev.State, "bad_for", next.Checked.Sub(prev.Since).Round(time.Second))
	case next.State == objstore.OriginOK:
	case prev.State == next.State && prev.Error == next.Error:
		h.log.Debug("origin still bad", "state", next.State, "err", err)
	default:
		level := slog.LevelError
		if d.State == objstore.OriginUnreachable || d.State == objstore.OriginError {
			level = slog.LevelWarn
		}
		h.log.Log(context.Background(), level, stateMessages[d.State], "state", d.State, "code", d.Code,
			"fix", d.Fix, "origin", h.target.where(), "bucket", h.target.Bucket, "err", err)
	}
}

// stateMessages say what each bad state means for the node.
var stateMessages = map[objstore.OriginState]string{
	objstore.OriginAccessDenied:  "origin refuses access: level 1 and 2 writes and origin reads fail until the credentials are fixed; the node serves what it holds and retries",
	objstore.OriginNoSuchBucket:  "origin bucket does not exist: level 1 and 2 writes and origin reads fail until it does; the node serves what it holds and retries",
	objstore.OriginNoCredentials: "no credentials for the origin: level 1 and 2 writes and origin reads fail until some are given; the node serves what it holds and retries",
	objstore.OriginWrongRegion:   "origin bucket is in another region: level 1 and 2 writes and origin reads fail until -R names it; the node serves what it holds and retries",
	objstore.OriginUnreachable:   "origin unreachable: level 1 and 2 writes and origin reads fail until it answers; the node serves what it holds and retries",
	objstore.OriginError:         "origin fails: level 1 and 2 writes and origin reads may fail; the node serves what it holds and retries",
}

// observe takes the outcome of an ordinary request and probes at once
// when it disagrees with the state: a success while the origin is bad, or
// a failure that concerns every bucket (no answer, credentials refused)
// while it is OK. Kicks come at most every kickGap.
func (h *health) observe(err error) {
	h.mu.Lock()
	state, last := h.cur.State, h.lastProbe
	h.mu.Unlock()
	if state == "" || time.Since(last) < kickGap {
		return
	}
	disagree := err == nil && state != objstore.OriginOK
	if err != nil && state == objstore.OriginOK {
		disagree = concernsAll(diagnose(err, h.target))
	}
	if !disagree {
		return
	}
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// recheck kicks a probe when the last one is older than maxAge and than
// kickGap. Before start (no probe yet) it does nothing: start probes.
func (h *health) recheck(maxAge time.Duration) {
	h.mu.Lock()
	state, last := h.cur.State, h.lastProbe
	h.mu.Unlock()
	if state == "" || time.Since(last) < max(maxAge, kickGap) {
		return
	}
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// concernsAll reports whether a diagnosis holds for every request, not
// only for one bucket or key.
func concernsAll(d diagnosis) bool {
	switch d.State {
	case objstore.OriginUnreachable, objstore.OriginNoCredentials:
		return true
	case objstore.OriginAccessDenied:
		return d.Code != "AccessDenied" && d.Code != "" // a policy may deny one bucket only
	}
	return false
}

// healthRetryer is the SDK's retryer, but retries nothing while the origin
// is unreachable: a write then fails after one attempt, not after the
// SDK's backoff, and still succeeds if the origin is back. Nor does it
// retry a deadline hit: an origin silent for a whole bound is not a blip,
// and retries would multiply the bound a writer waits.
type healthRetryer struct {
	aws.RetryerV2
	noRetry func() bool
}

func (r healthRetryer) IsErrorRetryable(err error) bool {
	return !r.noRetry() && !deadline.IsTimeout(err) && r.RetryerV2.IsErrorRetryable(err)
}
