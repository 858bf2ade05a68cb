package integration

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const (
	crashWriters = 8
	// crashVerifiers is how many GETs verify in parallel after a restart.
	crashVerifiers = 4
	// crashMaxErrors stops a round's report after this many failures.
	crashMaxErrors = 20
	// crashSample is how many older objects a round that is not a full
	// check reads back besides the ones of the round itself.
	crashSample = 1000
	// crashMinAcked is how many PUTs a round waits to see acknowledged
	// before it arms the kill: on a loaded machine a kill a fixed time
	// after the start can land before any PUT is answered, and a round
	// with nothing acknowledged checks no durability at all.
	crashMinAcked = 4
	// crashAckWithin bounds that wait: writers that get no answer for this
	// long are a hang, and fail the test.
	crashAckWithin = time.Minute
)

// crashObject is one PUT the crash test made.
type crashObject struct {
	id    string
	level int
	size  int
	sha   string
	round int
}

// TestCrashKill9 kills the node with SIGKILL while 8 writers PUT as fast as
// they can, restarts it, and checks, round after round, that every
// acknowledged PUT of every round so far reads back byte-identical at its
// level, and that a PUT that was not acknowledged is either absent or
// complete, never partial. An object once seen complete must stay.
//
// OBJSTORE_CRASH_ROUNDS sets the rounds; OBJSTORE_CRASH_LEVELS the levels
// the PUTs pick from ("0", "1" or "0,1", the default);
// OBJSTORE_CRASH_MAX_DELAY the latest a kill lands after crashMinAcked PUTs
// of the round were acknowledged (150ms by default, so CI rounds are short;
// the campaign lets the load build up longer); OBJSTORE_CRASH_SEED replays
// a run. Every round reads back all objects so far unless
// OBJSTORE_CRASH_FULL_CHECK_EVERY=k: then every k-th round and the last do,
// and the others read the round's own objects and a random sample of
// crashSample older ones, so that hundreds of rounds stay linear in time.
func TestCrashKill9(t *testing.T) {
	rounds := envInt(t, "OBJSTORE_CRASH_ROUNDS", 30)
	fullEvery := envInt(t, "OBJSTORE_CRASH_FULL_CHECK_EVERY", 1)
	levels := envLevels(t, "OBJSTORE_CRASH_LEVELS", []int{0, 1})
	maxDelay := envDuration(t, "OBJSTORE_CRASH_MAX_DELAY", 150*time.Millisecond)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("OBJSTORE_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("OBJSTORE_CRASH_SEED: %v", err)
		}
	}
	t.Logf("seed %d (OBJSTORE_CRASH_SEED=%d replays the same sizes, levels and kill delays), %d rounds at levels %v", seed, seed, rounds, levels)
	rng := rand.New(rand.NewPCG(seed, 0x0b57))
	pool := randomBody(seed, 4<<20)
	camp := newCampaign(t, "crash_kill9")
	camp.Set("seed", strconv.FormatUint(seed, 10))
	camp.Set("levels", levels)
	camp.Set("max_delay_ms", maxDelay.Milliseconds())
	for _, f := range []string{"rounds", "acknowledged", "acknowledged_level0", "acknowledged_level1",
		"unacknowledged_complete", "unacknowledged_absent", "lost", "torn", "wrong", "errors", "checked_in_s3"} {
		camp.Add(f, 0)
	}

	o := newOrigin(t)
	n := o.StartNode(t)
	nodeID := n.NodeID(t)

	start := time.Now()
	var (
		durable  []crashObject // acknowledged, or seen complete after a restart
		inOrigin []crashObject // acknowledged at level 1
		present  int           // not acknowledged but complete after the restart
		absent   int           // not acknowledged and absent after the restart
	)
	for round := range rounds {
		delay := 10*time.Millisecond + time.Duration(rng.Int64N(int64(max(maxDelay-10*time.Millisecond, 0))+1))
		acked, unacked := crashRound(t, n, rng, pool, levels, round, delay)
		killed := time.Now()
		n.Restart(t)
		camp.Time("recover", time.Since(killed))
		if id := n.NodeID(t); id != nodeID {
			t.Errorf("round %d: node id after restart = %s, want %s", round, id, nodeID)
		}
		camp.Add("rounds", 1)
		camp.Add("acknowledged", len(acked))
		for _, obj := range acked {
			camp.Add("acknowledged_level"+strconv.Itoa(obj.level), 1)
			if obj.level >= 1 {
				inOrigin = append(inOrigin, obj)
			}
		}
		check := slices.Concat(durable, acked)
		if (round+1)%fullEvery != 0 && round != rounds-1 {
			check = append(sampleObjects(rng, durable, crashSample), acked...)
		}
		durable = append(durable, acked...)
		for _, e := range camp.verify(n, check, true) {
			t.Errorf("round %d (killed after %v): %s", round, delay, e)
		}
		for _, obj := range unacked {
			ok, kind, err := verifyObject(n, obj, false)
			switch {
			case err != nil:
				camp.Add(kind, 1)
				t.Errorf("round %d (killed after %v): not acknowledged: %s", round, delay, err)
			case ok:
				durable = append(durable, obj)
				present++
				camp.Add("unacknowledged_complete", 1)
			default:
				absent++
				camp.Add("unacknowledged_absent", 1)
			}
		}
		if t.Failed() {
			t.Fatalf("stopping after round %d; seed %d", round, seed)
		}
		if (round+1)%25 == 0 {
			t.Logf("%d rounds in %v: %d objects durable", round+1, time.Since(start).Round(time.Second), len(durable))
		}
	}
	// An acknowledged level-1 PUT was in S3 when it returned.
	for _, obj := range inOrigin {
		head, ok := o.Head(t, obj.id)
		camp.Add("checked_in_s3", 1)
		if !ok {
			camp.Add("lost", 1)
			t.Errorf("acknowledged level-1 object %s (round %d) is not in S3", obj.id, obj.round)
		} else if size := aws.ToInt64(head.ContentLength); size != int64(obj.size) {
			camp.Add("torn", 1)
			t.Errorf("acknowledged level-1 object %s (round %d) has %d bytes in S3, want %d", obj.id, obj.round, size, obj.size)
		}
	}
	if len(durable) == present {
		t.Errorf("%d rounds acknowledged no PUT: nothing was checked", rounds)
	}
	t.Logf("%d rounds in %v: %d acknowledged PUTs kept (%d at level 1, checked in S3); of the others %d complete, %d absent",
		rounds, time.Since(start).Round(time.Millisecond), len(durable)-present, len(inOrigin), present, absent)
}

// envLevels reads a comma-separated list of consistency levels from the
// environment, or returns def.
func envLevels(t testing.TB, name string, def []int) []int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	var levels []int
	for _, f := range strings.Split(s, ",") {
		l, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || l < 0 || l > 2 {
			t.Fatalf("%s=%q: want levels 0 to 2 separated by commas", name, s)
		}
		levels = append(levels, l)
	}
	return levels
}

// waitFor polls cond until it holds, or returns an error after within.
func waitFor(within time.Duration, cond func() bool) error {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", within)
		}
		<-tick.C
	}
	return nil
}

// envDuration reads a positive duration from the environment, or returns def.
func envDuration(t testing.TB, name string, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 500ms", name, s)
	}
	return d
}

// sampleObjects returns up to k of objs picked at random, in a new slice.
func sampleObjects(rng *rand.Rand, objs []crashObject, k int) []crashObject {
	if len(objs) <= k {
		return append([]crashObject(nil), objs...)
	}
	out := make([]crashObject, 0, k)
	for _, i := range rng.Perm(len(objs))[:k] {
		out = append(out, objs[i])
	}
	return out
}

// crashRound runs the writers against n, kills n after delay, and returns
// the PUTs that were acknowledged and those that were not.
func crashRound(t *testing.T, n *Node, rng *rand.Rand, pool []byte, levels []int, round int, delay time.Duration) (acked, unacked []crashObject) {
	t.Helper()
	var (
		killed atomic.Bool
		mu     sync.Mutex // guards acked, unacked and errs
		errs   []string
		wg     sync.WaitGroup
	)
	for range crashWriters {
		wr := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		wg.Go(func() {
			for !killed.Load() {
				obj, body := newCrashObject(wr, pool, levels, round)
				r, err := n.do(http.MethodPost, "/api/v1/put", bytes.NewReader(body), putHeaders(obj.id, obj.level)...)
				mu.Lock()
				switch {
				case err == nil && r.Status == http.StatusOK:
					acked = append(acked, obj)
				case err != nil && killed.Load():
					unacked = append(unacked, obj)
				case err != nil:
					errs = append(errs, fmt.Sprintf("PUT %s of %d bytes before the kill: %v", obj.id, obj.size, err))
					unacked = append(unacked, obj)
				default:
					errs = append(errs, fmt.Sprintf("PUT %s of %d bytes: %s", obj.id, obj.size, r))
					unacked = append(unacked, obj)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	// Arm the kill once a few PUTs are acknowledged, then let it land at
	// a random point of the load.
	waitErr := waitFor(crashAckWithin, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= crashMinAcked || len(errs) > 0
	})
	timer := time.NewTimer(delay)
	<-timer.C
	killed.Store(true)
	n.Kill()
	wg.Wait()
	if waitErr != nil && len(errs) == 0 {
		t.Errorf("round %d: %d PUTs acknowledged in %v, want %d: %v", round, len(acked), crashAckWithin, crashMinAcked, waitErr)
	}
	for _, e := range errs {
		t.Errorf("round %d: %s", round, e)
	}
	return acked, unacked
}

// newCrashObject makes a PUT of a random size, mostly up to 256 KiB and now
// and then up to 4 MiB, at one of levels. The body starts with its id, so
// no two bodies are alike.
func newCrashObject(rng *rand.Rand, pool []byte, levels []int, round int) (crashObject, []byte) {
	size := rng.IntN(256<<10 + 1)
	if rng.IntN(50) == 0 {
		size = 256<<10 + rng.IntN(len(pool)-256<<10+1)
	}
	id := newID()
	off := rng.IntN(len(pool) - size + 1)
	body := make([]byte, size)
	copy(body, pool[off:off+size])
	copy(body, id)
	return crashObject{id: id, level: levels[rng.IntN(len(levels))], size: size, sha: sum(body), round: round}, body
}

// verify reads every object back with a few GETs at a time, counts each
// failure by its kind (see verifyObject) and returns at most crashMaxErrors
// of them.
func (c *campaign) verify(n *Node, objs []crashObject, mustExist bool) []string {
	var (
		mu   sync.Mutex // guards errs
		errs []string
		wg   sync.WaitGroup
	)
	work := make(chan crashObject)
	for range crashVerifiers {
		wg.Go(func() {
			for obj := range work {
				if _, kind, err := verifyObject(n, obj, mustExist); err != nil {
					c.Add(kind, 1)
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}
		})
	}
	for _, obj := range objs {
		work <- obj
	}
	close(work)
	wg.Wait()
	return errs[:min(len(errs), crashMaxErrors)]
}

// verifyObject GETs obj: it must be absent (unless mustExist) or complete,
// byte-identical at its level. present says which. A failure comes with its
// kind for the campaign's figures: "lost" (404 although it must exist),
// "torn" (200 with another length), "wrong" (200 with other bytes of the
// same length, or another level), "errors" (any other answer).
func verifyObject(n *Node, obj crashObject, mustExist bool) (present bool, kind string, err error) {
	r, err := n.do(http.MethodGet, "/api/v1/get/"+obj.id, nil)
	what := fmt.Sprintf("GET %s (round %d, %d bytes, level %d)", obj.id, obj.round, obj.size, obj.level)
	switch {
	case err != nil:
		return false, "errors", fmt.Errorf("%s: %w", what, err)
	case r.Status == http.StatusNotFound && !mustExist:
		return false, "", nil
	case r.Status == http.StatusNotFound:
		return false, "lost", fmt.Errorf("%s: got %s, want 200", what, r)
	case r.Status != http.StatusOK:
		return false, "errors", fmt.Errorf("%s: got %s, want 200", what, r)
	case len(r.Body) != obj.size:
		return true, "torn", fmt.Errorf("%s: 200 with %d bytes", what, len(r.Body))
	case sum(r.Body) != obj.sha:
		return true, "wrong", fmt.Errorf("%s: 200 with %d bytes that differ from what was PUT", what, len(r.Body))
	case r.Header.Get("X-Meta-Consistencylevel") != strconv.Itoa(obj.level):
		return true, "wrong", fmt.Errorf("%s: X-Meta-Consistencylevel %q", what, r.Header.Get("X-Meta-Consistencylevel"))
	}
	return true, "", nil
}

// envInt reads a positive integer from the environment, or returns def.
func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return v
}
