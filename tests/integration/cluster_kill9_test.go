package integration

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// kill9Keys is how many ids the writers of TestClusterKill9Converges share.
	kill9Keys = 48
	// kill9Writers is how many writers run on each of nodes 1 and 2.
	kill9Writers = 2
	// kill9Ops is how many operations the writers complete in each phase:
	// before the kill, while node 3 is down, after its restart.
	kill9Ops = 120
)

// TestClusterKill9Converges runs writers that PUT (levels 0, 1 and 2) and
// DELETE on nodes 1 and 2 of a 3-node cluster, kills node 3 with SIGKILL
// mid-way, keeps writing, restarts node 3 on its directories and checks
// that every node ends with the same record of every id, the one of the
// last acknowledged operation, and that node 3 serves every live level-2
// object from its own disk.
func TestClusterKill9Converges(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	c := StartCluster(t, 3, ClusterOpts{})
	n1, n2, n3 := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	camp := newCampaign(t, "cluster_kill9")
	camp.Set("seed", strconv.FormatUint(seed, 10))
	camp.Set("nodes", 3)

	// Objects only node 3 holds (level 0), or node 3 and S3 (level 1).
	solo0, solo1 := newID(), newID()
	body0, body1 := randomBody(seed, 64<<10), randomBody(seed+1, 96<<10)
	n3.MustPut(t, solo0, 0, body0)
	n3.MustPut(t, solo1, 1, body1)
	solo := map[string]expect{solo0: liveExpect(body0, 0), solo1: liveExpect(body1, 1)}
	eventually(t, 10*time.Second, "nodes 1 and 2 know node 3's objects", func() error {
		return converged(c.Nodes, solo)
	})

	w := newKeyWriters(seed, kill9Keys)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	rng := rand.New(rand.NewPCG(seed, 9))
	for i := range 2 * kill9Writers {
		n := []*Node{n1, n2}[i%2]
		wr := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		wg.Go(func() { w.run(n, wr, stop) })
	}
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopWriters) // before the nodes stop: cleanups run last-in first-out
	w.waitOps(t, kill9Ops)

	n3ID := n3.NodeID(t)
	n3.Kill()
	killed := time.Now()
	t.Logf("node 3 killed after %d operations", w.ops.Load())
	WaitMembers(t, []*Node{n1, n2}, 2)
	camp.Time("detect", time.Since(killed))
	for _, n := range []*Node{n1, n2} {
		if st := stateOf(n.Members(t), n3ID); st != "dead" && st != "suspect" {
			t.Errorf("node %s lists the killed node 3 as %q, want dead or suspect", n.PrivateAddr, st)
		}
	}
	// With node 3 down, its level-0 object cannot be read elsewhere, and
	// its level-1 object is read from S3.
	eventually(t, 15*time.Second, "GET of node 3's level-0 object on node 1 while node 3 is down", func() error {
		r, err := n1.read(solo0)
		if err != nil {
			return err
		}
		if r.Status != http.StatusServiceUnavailable {
			return fmt.Errorf("GET %s: %s, want 503", solo0, r)
		}
		return nil
	})
	r, err := n1.read(solo1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusOK || r.SHA != sum(body1) || r.Header.Get("X-Meta-Fetched") != "true" {
		t.Errorf("GET %s (level 1, written on node 3) on node 1 while node 3 is down: %s, want 200 with X-Meta-Fetched: true and the body", solo1, r)
	}
	w.waitOps(t, kill9Ops)

	restarted := time.Now()
	n3.Restart(t)
	camp.Time("restart", time.Since(restarted))
	t.Logf("node 3 restarted after %d operations", w.ops.Load())
	w.waitOps(t, kill9Ops)
	stopWriters()
	if errs := w.errors(); len(errs) > 0 {
		t.Fatalf("writers failed:\n%s", errs)
	}
	t.Logf("%d operations: %d PUTs, %d DELETEs acknowledged", w.ops.Load(), w.puts.Load(), w.deletes.Load())
	camp.Set("operations", w.ops.Load())
	camp.Set("acknowledged_puts", w.puts.Load())
	camp.Set("acknowledged_deletes", w.deletes.Load())

	WaitMembers(t, c.Nodes, 3)
	want := w.expectations()
	for id, e := range solo {
		want[id] = e
	}
	took := eventually(t, 60*time.Second, "every node's record of every id", func() error {
		return converged(c.Nodes, want)
	})
	t.Logf("records converged %v after the writers stopped", took.Round(time.Millisecond))
	camp.Time("converge", took)
	eventually(t, 60*time.Second, "node 3 holds every live level-2 body", func() error {
		return localBodies(n3, want)
	})
	if err := readsConverged(c.Nodes, want, n3); err != nil {
		t.Fatal(err)
	}
	camp.Set("ids", len(want))
	// The object that only node 3 holds is back.
	if r, err := n1.read(solo0); err != nil || r.Status != http.StatusOK || r.Header.Get("X-Meta-Symlink") != "true" {
		t.Errorf("GET %s (level 0 on node 3) on node 1 after node 3's restart: %v %v, want 200 with X-Meta-Symlink: true", solo0, r, err)
	}
}

// localBodies checks that n's record of every live level-2 object in want
// says the body is on n's disk (is_symlink false); it returns up to 10
// differences.
func localBodies(n *Node, want map[string]expect) error {
	var missing []string
	for id, e := range want {
		if !e.Known || e.Deleted || e.Level != 2 {
			continue
		}
		v, err := n.record(id)
		if err != nil {
			return err
		}
		if v.IsSymlink || v.Status != http.StatusOK {
			missing = append(missing, id+": "+v.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d level-2 bodies not on %s, e.g. %q", len(missing), n.PrivateAddr, missing[:min(len(missing), 10)])
	}
	return nil
}

// keyWriters run PUTs and DELETEs on a shared set of ids from many
// goroutines and nodes, and know what each id must converge to: the
// operations on one id never overlap and each starts in a later
// millisecond than the one before ended (see afterMilli), so the last
// acknowledged one has the greatest version wherever it ran.
type keyWriters struct {
	pool []byte
	keys []*trackedKey

	ops, puts, deletes atomic.Int64

	mu   sync.Mutex // guards errs
	errs []string
}

// trackedKey is one id the writers share.
type trackedKey struct {
	id    string
	level int // every PUT of the id has this level: a lower one would be refused

	mu     sync.Mutex // held across an operation on the id; guards want and writes
	want   expect
	writes int
}

func newKeyWriters(seed uint64, n int) *keyWriters {
	w := &keyWriters{pool: randomBody(seed, 1<<20)}
	for i := range n {
		w.keys = append(w.keys, &trackedKey{id: newID(), level: i % 3})
	}
	return w
}

// run operates on random ids through n until stop is closed or an
// operation fails.
func (w *keyWriters) run(n *Node, rng *rand.Rand, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		k := w.keys[rng.IntN(len(w.keys))]
		k.mu.Lock()
		err := w.op(n, rng, k)
		afterMilli(time.Now())
		k.mu.Unlock()
		if err != nil {
			w.mu.Lock()
			w.errs = append(w.errs, err.Error())
			w.mu.Unlock()
			return
		}
		w.ops.Add(1)
	}
}

// op runs one PUT (3 in 4) or DELETE of k on n; k.mu is held.
func (w *keyWriters) op(n *Node, rng *rand.Rand, k *trackedKey) error {
	if rng.IntN(4) == 0 {
		r, err := n.do(http.MethodPost, "/api/v1/delete/"+k.id, nil)
		if err != nil {
			return fmt.Errorf("DELETE %s on %s: %w", k.id, n.PrivateAddr, err)
		}
		switch r.Status {
		case http.StatusOK:
			k.want = expect{Known: true, Deleted: true}
			w.deletes.Add(1)
		case http.StatusNotFound:
			// Nothing to delete on that node (deleted already, or the
			// record has not reached it yet): nothing changed.
		default:
			return fmt.Errorf("DELETE %s on %s: %s", k.id, n.PrivateAddr, r)
		}
		return nil
	}
	k.writes++
	size := 1 + rng.IntN(32<<10)
	if rng.IntN(25) == 0 {
		size = 1 + rng.IntN(len(w.pool))
	}
	off := rng.IntN(len(w.pool) - size + 1)
	body := append([]byte(k.id+"/"+strconv.Itoa(k.writes)+"/"), w.pool[off:off+size]...)
	r, err := n.do(http.MethodPost, "/api/v1/put", bytes.NewReader(body), putHeaders(k.id, k.level)...)
	if err != nil {
		return fmt.Errorf("PUT %s on %s: %w", k.id, n.PrivateAddr, err)
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("PUT %s level %d on %s: %s", k.id, k.level, n.PrivateAddr, r)
	}
	k.want = liveExpect(body, k.level)
	w.puts.Add(1)
	return nil
}

// waitOps waits until the writers have completed n more operations.
func (w *keyWriters) waitOps(t testing.TB, n int64) {
	t.Helper()
	target := w.ops.Load() + n
	timeout := time.NewTimer(2 * time.Minute)
	defer timeout.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for w.ops.Load() < target {
		if errs := w.errors(); len(errs) > 0 {
			t.Fatalf("writers failed:\n%s", errs)
		}
		select {
		case <-tick.C:
		case <-timeout.C:
			t.Fatalf("writers completed %d of %d operations in 2 minutes", w.ops.Load()-target+n, n)
		}
	}
}

func (w *keyWriters) errors() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b bytes.Buffer
	for _, e := range w.errs {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// expectations returns what every id must converge to. Call it once the
// writers have stopped.
func (w *keyWriters) expectations() map[string]expect {
	want := make(map[string]expect, len(w.keys))
	for _, k := range w.keys {
		k.mu.Lock()
		want[k.id] = k.want
		k.mu.Unlock()
	}
	return want
}
