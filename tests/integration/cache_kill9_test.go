package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const (
	// cacheKill9Quota is the node's --disk-quota: the origin objects the readers
	// read through are a quarter more than it, so the node evicts all along.
	cacheKill9Quota = 2 << 20
	// cacheKill9Seeded is how many objects of cacheKill9SeededSize the origin holds
	// for the readers.
	cacheKill9Seeded, cacheKill9SeededSize = 40, 64 << 10
	// cacheKill9Level0Budget bounds the bytes of level-0 PUTs over all rounds:
	// they are the only copies, never evicted, and must leave room for the
	// cache to work in.
	cacheKill9Level0Budget = cacheKill9Quota / 4
	// cacheKill9MinEvictions is how many evictions a round waits for before
	// it arms the kill.
	cacheKill9MinEvictions = 4
)

// TestCacheKill9DuringEviction kills a node with a small --disk-quota with
// SIGKILL while writers PUT at levels 0 and 1 and readers read through more
// than the quota from the origin, at a random moment after the node has
// started evicting; it restarts the node and checks, round after round,
// that every acknowledged PUT reads back byte-identical (a level-0 body from
// the node, the only copy; a level-1 body from the node or through it from
// the origin, where it must be), that a PUT that was not acknowledged is
// absent or complete, that every origin object still reads through, and
// that the disk is within the quota.
func TestCacheKill9DuringEviction(t *testing.T) {
	rounds := envInt(t, "OBJSTORE_CACHE_KILL9_ROUNDS", 5)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("OBJSTORE_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("OBJSTORE_CRASH_SEED: %v", err)
		}
	}
	t.Logf("seed %d (OBJSTORE_CRASH_SEED=%d replays the sizes, levels and kill delays), %d rounds", seed, seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 0xe71c))

	o := newOrigin(t)
	seeded := map[string][]byte{}
	for i := range cacheKill9Seeded {
		id := newID()
		seeded[id] = randomBytes(seed+uint64(i), cacheKill9SeededSize)
		o.putOrigin(t, id, seeded[id])
	}
	n := o.StartNode(t, "--disk-quota", fmt.Sprint(cacheKill9Quota), "--memory-cache", "0")
	camp := newCampaign(t, "cache_kill9")
	camp.Set("seed", strconv.FormatUint(seed, 10))
	for _, f := range []string{"rounds", "acknowledged", "acknowledged_level0", "acknowledged_level1",
		"unacknowledged", "unacknowledged_complete", "lost", "torn", "wrong", "errors", "evictions"} {
		camp.Add(f, 0)
	}
	w := &cacheKill9{n: n, seeded: seeded, camp: camp}
	w.level0Left.Store(cacheKill9Level0Budget)

	var durable []crashObject // acknowledged, or seen complete after a restart
	evictions := 0.0
	for round := range rounds {
		delay := time.Duration(rng.IntN(251)) * time.Millisecond
		acked, unacked, ev := w.round(t, rng, round, delay)
		evictions += ev
		killed := time.Now()
		n.Restart(t)
		camp.Time("recover", time.Since(killed))
		camp.Add("rounds", 1)
		camp.Add("acknowledged", len(acked))
		camp.Add("unacknowledged", len(unacked))
		camp.Add("evictions", int(ev))
		for _, obj := range acked {
			camp.Add("acknowledged_level"+strconv.Itoa(obj.level), 1)
		}
		durable = append(durable, acked...)
		durable = append(durable, w.verify(t, o, round, durable, unacked)...)
		if t.Failed() {
			t.Fatalf("stopping after round %d; seed %d", round, seed)
		}
	}
	t.Logf("%d rounds: %d objects kept, %d evictions before the kills; PUTs refused for room (507): %d at level 0, %d at level 1",
		rounds, len(durable), int(evictions), w.refused[0].Load(), w.refused[1].Load())
	camp.Set("refused_507_level0", w.refused[0].Load())
	camp.Set("refused_507_level1", w.refused[1].Load())
}

// cacheKill9 is the writers and readers of TestCacheKill9DuringEviction.
type cacheKill9 struct {
	n      *Node
	seeded map[string][]byte // the origin's objects, read through by the readers
	camp   *campaign
	// level0Left is the bytes of level-0 PUTs still allowed.
	level0Left atomic.Int64
	// refused counts the PUTs answered 507, by level: not acknowledged, so
	// no loss, which is what this test is about. At level 0 it is the
	// node's right answer when only copies fill the disk; at level 1 it
	// happens now and then under this load although evictable bodies should
	// be on disk (see "Bounded disk" in docs/DESIGN.md): logged, not failed.
	refused [2]atomic.Int64
}

// round runs two writers and two readers against the node, kills it delay
// after it has evicted a few bodies in this round, and returns the PUTs acknowledged and
// not, and the evictions seen before the kill.
func (w *cacheKill9) round(t *testing.T, rng *rand.Rand, round int, delay time.Duration) (acked, unacked []crashObject, evictions float64) {
	t.Helper()
	var (
		killed atomic.Bool
		mu     sync.Mutex // guards acked, unacked and errs
		errs   []string
		wg     sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		errs = append(errs, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for range 2 {
		wr := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		wg.Go(func() {
			for !killed.Load() {
				obj, body := w.newObject(wr, round)
				r, err := w.n.do(http.MethodPost, "/api/v1/put", bytes.NewReader(body), putHeaders(obj.id, obj.level)...)
				mu.Lock()
				switch {
				case err == nil && r.Status == http.StatusOK:
					acked = append(acked, obj)
				case err == nil && r.Status == http.StatusInsufficientStorage:
					if w.refused[obj.level].Add(1) == 1 && obj.level == 1 {
						w.logCache(t, obj)
					}
				case err == nil:
					errs = append(errs, fmt.Sprintf("PUT %s (level %d, %d bytes): %s", obj.id, obj.level, obj.size, r))
				default:
					unacked = append(unacked, obj)
					if !killed.Load() {
						errs = append(errs, fmt.Sprintf("PUT %s before the kill: %v", obj.id, err))
					}
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	for range 2 {
		rd := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		wg.Go(func() { w.read(rd, &killed, fail) })
	}
	before := cacheStat(t, w.n, "evictions")
	eventually(t, 30*time.Second, "the node evicts", func() error {
		if evictions = cacheStat(t, w.n, "evictions"); evictions < before+cacheKill9MinEvictions {
			return fmt.Errorf("%.0f evictions, %.0f at the round's start", evictions, before)
		}
		return nil
	})
	timer := time.NewTimer(delay)
	<-timer.C
	killed.Store(true)
	w.n.Kill()
	wg.Wait()
	for _, e := range errs {
		t.Errorf("round %d: %s", round, e)
	}
	return acked, unacked, evictions - before
}

// logCache logs the cache part of the node's stats when a level-1 PUT was
// refused, for the record of what held the disk.
func (w *cacheKill9) logCache(t *testing.T, obj crashObject) {
	r, err := w.n.do(http.MethodGet, "/api/v1/stats", nil)
	if err != nil {
		t.Logf("level-1 PUT %s of %d bytes refused (507); stats: %v", obj.id, obj.size, err)
		return
	}
	var st struct {
		Cache map[string]any `json:"cache"`
	}
	_ = json.Unmarshal(r.Body, &st) // a log line: an unreadable body logs as empty
	t.Logf("level-1 PUT %s of %d bytes refused (507); cache: %v", obj.id, obj.size, st.Cache)
}

// read GETs random origin objects through the node until it is killed.
func (w *cacheKill9) read(rng *rand.Rand, killed *atomic.Bool, fail func(string, ...any)) {
	ids := make([]string, 0, len(w.seeded))
	for id := range w.seeded {
		ids = append(ids, id)
	}
	for !killed.Load() {
		id := ids[rng.IntN(len(ids))]
		r, err := w.n.do(http.MethodGet, "/api/v1/get/"+id, nil, "X-Meta-Fetch", "1")
		switch {
		case err != nil && killed.Load():
			return
		case err != nil:
			fail("GET %s before the kill: %v", id, err)
			return
		case r.Status != http.StatusOK || !bytes.Equal(r.Body, w.seeded[id]):
			fail("GET %s: %s, want 200 with the origin's %d bytes", id, r, len(w.seeded[id]))
		}
	}
}

// newObject makes a PUT of 16 to 96 KiB, at level 0 while the level-0
// budget lasts (one in four) and at level 1 otherwise. The body starts with
// its id, so no two are alike.
func (w *cacheKill9) newObject(rng *rand.Rand, round int) (crashObject, []byte) {
	size := 16<<10 + rng.IntN(80<<10+1)
	level := 1
	if rng.IntN(4) == 0 && w.level0Left.Add(-int64(size)) >= 0 {
		level = 0
	}
	id := newID()
	body := randomBytes(rng.Uint64(), size)
	copy(body, id)
	return crashObject{id: id, level: level, size: size, sha: sum(body), round: round}, body
}

// verify checks the restarted node after round: every durable object reads
// back at its level (a level-1 one is also in the origin), an unacknowledged
// PUT is absent or complete, every origin object reads through, and the
// disk is within the quota. It returns the unacknowledged PUTs found
// complete: from now on they must stay.
func (w *cacheKill9) verify(t *testing.T, o *origin, round int, objs, unacked []crashObject) (complete []crashObject) {
	t.Helper()
	for _, e := range w.camp.verify(w.n, objs, true) {
		t.Errorf("round %d: %s", round, e)
	}
	for _, obj := range objs {
		if obj.level < 1 {
			continue
		}
		if head, ok := o.Head(t, obj.id); !ok || aws.ToInt64(head.ContentLength) != int64(obj.size) {
			w.camp.Add("lost", 1)
			t.Errorf("round %d: acknowledged level-1 object %s (round %d, %d bytes) is not complete in the origin", round, obj.id, obj.round, obj.size)
		}
	}
	for _, obj := range unacked {
		ok, kind, err := verifyObject(w.n, obj, false)
		switch {
		case err != nil:
			w.camp.Add(kind, 1)
			t.Errorf("round %d: not acknowledged: %s", round, err)
		case ok:
			w.camp.Add("unacknowledged_complete", 1)
			complete = append(complete, obj)
		}
	}
	for id, body := range w.seeded {
		w.n.MustGet(t, id, body, "X-Meta-Fetch", "1")
	}
	if b := cacheStat(t, w.n, "bytes"); b > cacheKill9Quota {
		t.Errorf("round %d: the cache holds %.0f bytes after the restart, over the %d-byte quota", round, b, cacheKill9Quota)
	}
	return complete
}
