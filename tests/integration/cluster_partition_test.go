package integration

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// partitionStep is one operation of TestClusterPartitionHeal: a PUT, or a
// DELETE, of key on node.
type partitionStep struct {
	node int // index into the cluster's nodes: 0 is side A, 1 and 2 side B
	del  bool
	key  int
}

// TestClusterPartitionHeal cuts a 3-node cluster, each node in a network
// namespace of its own, into {1} and {2, 3} (the test network's bridge is
// split in two; the host's network is not touched), writes and deletes the same ids on both sides, interleaved in
// wall-clock time, heals, and checks that every node ends with the record
// of the last operation on each id (its exact version), serves its body or
// a 404 with X-Meta-Deleted, and that no deleted object comes back.
func TestClusterPartitionHeal(t *testing.T) {
	c := StartCluster(t, 3, ClusterOpts{Isolated: true})
	n1, n2, n3 := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	camp := newCampaign(t, "partition_heal")
	camp.Set("nodes", 3)
	camp.Set("resurrected", 0)

	// ids 0-5 exist on every node before the partition, 6-8 are new;
	// id i has level i%3 (so ids 2 and 5 have their bodies everywhere).
	ids := make([]string, 9)
	want := map[string]expect{}
	last := map[string]version{}
	put := func(n *Node, i int) {
		t.Helper()
		body := fmt.Appendf(nil, "%s written on %s at %s\n", ids[i], n.PrivateAddr, time.Now().Format(time.RFC3339Nano))
		body = append(body, randomBody(uint64(i), 2000+i*3000)...)
		n.MustPut(t, ids[i], i%3, body)
		want[ids[i]] = liveExpect(body, i%3)
	}
	for i := range ids {
		ids[i] = newID()
	}
	for i := range 6 {
		put(c.Nodes[i%2], i)
	}
	eventually(t, 20*time.Second, "records before the partition", func() error {
		return converged(c.Nodes, want)
	})
	eventually(t, 30*time.Second, "level-2 bodies on every node before the partition", func() error {
		return errors.Join(localBodies(n1, want), localBodies(n2, want), localBodies(n3, want))
	})
	for id := range want {
		last[id] = n1.Record(t, id).Version
	}

	p := Partition(t, []*Node{n1}, []*Node{n2, n3})
	cut := time.Now()
	WaitMembers(t, []*Node{n1}, 1)
	WaitMembers(t, []*Node{n2, n3}, 2)
	camp.Time("detect", time.Since(cut))

	steps := []partitionStep{
		{node: 1, key: 0},            // 0: B writes, then A: A wins
		{node: 0, key: 1},            // 1: A writes, then B: B wins
		{node: 2, key: 2},            // 2: B overwrites, then A deletes
		{node: 0, key: 3},            // 3: A overwrites, then B deletes
		{node: 0, key: 4, del: true}, // 4: A deletes, then B overwrites: B wins
		{node: 2, key: 5, del: true}, // 5: B deletes a level-2 object A holds and never touches
		{node: 0, key: 6},            // 6: new; A writes, then B: B wins
		{node: 1, key: 7},            // 7: new; B writes, A writes, B deletes
		{node: 0, key: 8},            // 8: new, level 2, A only
		{node: 0, key: 0},
		{node: 2, key: 1},
		{node: 0, key: 2, del: true},
		{node: 1, key: 3, del: true},
		{node: 1, key: 4},
		{node: 2, key: 6},
		{node: 0, key: 7},
		{node: 2, key: 7, del: true},
	}
	for i, s := range steps {
		n, id := c.Nodes[s.node], ids[s.key]
		if s.del {
			r := n.Do(t, http.MethodPost, "/api/v1/delete/"+id, nil)
			wantStatus(t, r, http.StatusOK, fmt.Sprintf("step %d: DELETE %s on node %d", i, id, s.node+1))
			want[id] = expect{Known: true, Deleted: true}
		} else {
			put(n, s.key)
		}
		done := time.Now()
		v := n.Record(t, id)
		if err := want[id].matches(v); err != nil {
			t.Fatalf("step %d: meta %s on node %d right after the operation: %v", i, id, s.node+1, err)
		}
		if prev, ok := last[id]; ok && !prev.less(v.Version) {
			t.Errorf("step %d on node %d: %s got version %s, not after the version %s of the operation before it in wall-clock time",
				i, s.node+1, id, v.Version, prev)
		}
		last[id] = v.Version
		e := want[id]
		e.Version = v.Version
		want[id] = e
		afterMilli(done)
	}
	// The partition holds: what side A made alone is unknown on side B.
	for _, n := range []*Node{n2, n3} {
		if v := n.Record(t, ids[8]); v.Status != http.StatusNotFound || v.Deleted {
			t.Fatalf("meta %s (put on node 1 during the partition) on %s before the heal: %s, want unknown", ids[8], n.PrivateAddr, v)
		}
	}

	p.Heal()
	healed := time.Now()
	WaitMembers(t, c.Nodes, 3)
	eventually(t, 60*time.Second, "every node's record of every id after the heal", func() error {
		return converged(c.Nodes, want)
	})
	t.Logf("records converged %v after the heal", time.Since(healed).Round(time.Millisecond))
	camp.Time("converge", time.Since(healed))
	eventually(t, 30*time.Second, "every node serves every object after the heal", func() error {
		return readsConverged(c.Nodes, want, c.Nodes...)
	})
	camp.Time("reads_converge", time.Since(healed))
	camp.Set("ids", len(want))
	camp.Set("steps", len(steps))
	// Several anti-entropy passes later nothing has changed: no deleted
	// object came back, no older write won.
	holdFor(t, 3*time.Second, "records after convergence", func() error {
		err := converged(c.Nodes, want)
		if err != nil {
			camp.Set("resurrected", 1) // a record moved away from the last operation after agreeing on it
		}
		return err
	})
	if err := readsConverged(c.Nodes, want, c.Nodes...); err != nil {
		t.Fatal(err)
	}
}
