package integration

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// outboxOutage is how long TestOutboxOutageKill9 keeps the origin away,
// as issue 11 asks; OBJSTORE_OUTBOX_OUTAGE sets another.
const outboxOutage = 60 * time.Second

// outboxTimeouts are short origin deadlines, so that an upload to the
// frozen origin fails in seconds.
var outboxTimeouts = []string{"--origin-connect-timeout=2s", "--origin-first-byte-timeout=2s", "--origin-progress-timeout=2s"}

// TestOutboxOutageKill9 writes in write-back mode through an origin
// outage: the first half the origin hangs (versitygw stopped with
// SIGSTOP), the second half it refuses connections (the switch in front of
// it is off). In the middle, under write load, the node is killed with
// SIGKILL and restarted, still without an origin. Every write acknowledged
// is read back while pending; once the origin is back the node drains its
// outbox by itself, and every acknowledged object is then in the origin
// with its bytes: 0 missing.
func TestOutboxOutageKill9(t *testing.T) {
	outage := envDuration(t, "OBJSTORE_OUTBOX_OUTAGE", outboxOutage)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, outage %v", seed, outage)
	rng := rand.New(rand.NewPCG(seed, 0x0b0c))
	pool := randomBody(seed, 1<<20)
	o := newOrigin(t)
	sw, n := startBehindSwitch(t, o)
	camp := newCampaign(t, "outbox_outage_kill9")
	camp.Set("seed", fmt.Sprint(seed))
	camp.Set("outage_seconds", outage.Seconds())

	acked := map[string][]byte{}
	o.Freeze(t) // hangs: connections accepted, nothing answered
	began := time.Now()
	w := outboxStartWriters(n, rng, pool)
	time.Sleep(outage / 2) // the kill lands under load, half-way through
	n.Kill()
	w.stop(t, acked)
	t.Logf("hang: %d write-back PUTs acknowledged, %d cut by the kill", len(acked), w.cut.Load())

	o.Thaw(t)
	sw.set(true) // down: connections refused
	n.Restart(t)
	outboxCheckPending(t, n, acked, rng)
	w = outboxStartWriters(n, rng, pool)
	time.Sleep(max(outage-time.Since(began), 0))
	w.stop(t, acked)
	outboxCheckPending(t, n, acked, rng)
	s, err := n.outbox()
	if err != nil || s.Depth == 0 || s.OldestAge <= 0 {
		t.Fatalf("outbox at the end of the outage: %+v, %v; want pending uploads with an age", s, err)
	}
	t.Logf("outage over after %v: %d acknowledged, outbox %+v", time.Since(began).Round(time.Second), len(acked), s)

	sw.set(false)
	back := time.Now()
	outboxDrained(t, n, 3*time.Minute)
	camp.Time("drain", time.Since(back))
	missing := outboxMissing(t, o, acked)
	camp.Set("acknowledged", len(acked))
	camp.Set("missing", len(missing))
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged objects missing from the origin, first: %s", len(missing), len(acked), missing[0])
	}
	for id := range acked {
		if st, err := n.outboxUpload(id); err != nil || st != "uploaded" {
			t.Fatalf("%s after the drain: upload %q, %v; want uploaded", id, st, err)
		}
		break
	}
	t.Logf("drained in %v: %d acknowledged objects all in the origin", time.Since(back).Round(time.Millisecond), len(acked))
}

// outboxPace is the pause of each writer between PUTs: about 25 PUTs a
// second in all, so that the objects of a 60 s outage drain in about a
// minute on a shared CI machine (unpaced, the writers acknowledge over
// 100 a second, more than the origin takes back).
const outboxPace = 150 * time.Millisecond

// outboxWriters are 4 goroutines PUTting write-back objects of up to
// 64 KiB, paced, until stopped or the node dies.
type outboxWriters struct {
	stopped atomic.Bool
	cut     atomic.Int64
	wg      sync.WaitGroup
	mu      sync.Mutex // guards acked and errs
	acked   map[string][]byte
	errs    []string
}

func outboxStartWriters(n *Node, rng *rand.Rand, pool []byte) *outboxWriters {
	w := &outboxWriters{acked: map[string][]byte{}}
	for range 4 {
		wr := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		w.wg.Go(func() {
			for !w.stopped.Load() {
				id, size := newID(), wr.IntN(64<<10+1)
				off := wr.IntN(len(pool) - size + 1)
				body := append([]byte(id), pool[off:off+size]...)
				r, err := n.outboxPut(id, 1+wr.IntN(2), body)
				w.record(id, body, r, err)
				if err != nil {
					return
				}
				time.Sleep(outboxPace)
			}
		})
	}
	return w
}

// record notes the outcome of one PUT: acknowledged, cut by a kill (a
// transport error), or refused (an error of the test).
func (w *outboxWriters) record(id string, body []byte, r *response, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil:
		w.cut.Add(1)
	case r.Status != http.StatusOK:
		w.errs = append(w.errs, fmt.Sprintf("write-back PUT %s: %s", id, r))
	default:
		w.acked[id] = body
	}
}

// stop stops the writers, waits for them and adds what was acknowledged
// to acked; a PUT refused fails the test.
func (w *outboxWriters) stop(t *testing.T, acked map[string][]byte) {
	t.Helper()
	w.stopped.Store(true)
	w.wg.Wait()
	for _, e := range w.errs {
		t.Error(e)
	}
	for id, b := range w.acked {
		acked[id] = b
	}
	if len(w.errs) > 0 {
		t.FailNow()
	}
}

// outboxCheckPending reads back a sample of the acknowledged objects
// while the origin is away: each answers with its bytes and is pending.
func outboxCheckPending(t *testing.T, n *Node, acked map[string][]byte, rng *rand.Rand) {
	t.Helper()
	checked := 0
	for id, body := range acked {
		if checked == 20 {
			break
		}
		if rng.IntN(2) == 0 {
			continue
		}
		checked++
		r := n.Get(t, id)
		wantStatus(t, r, http.StatusOK, "GET "+id+" while pending")
		wantBody(t, r.Body, body, "GET "+id+" while pending")
		if got := r.Header.Get("X-Meta-Upload"); got != "pending" {
			t.Fatalf("GET %s while the origin is away: X-Meta-Upload %q, want pending", id, got)
		}
		if st, err := n.outboxUpload(id); err != nil || st != "pending" {
			t.Fatalf("meta %s while the origin is away: upload %q, %v; want pending", id, st, err)
		}
	}
}
