package integration

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"
)

// TestClusterFreshNodeGetsLevel2 starts a third node with empty directories
// (configured through the environment only) next to two nodes that hold 20
// level-2 objects, up to 4 MiB, and a few of levels 0 and 1: it must learn
// every record and hold every level-2 body. Then node 2 loses its state and
// files and restarts: it comes back under a new node ID and gets everything
// back too, and a level-1 object its old self wrote is read from S3.
func TestClusterFreshNodeGetsLevel2(t *testing.T) {
	c := StartCluster(t, 2, ClusterOpts{})
	n1, n2 := c.Nodes[0], c.Nodes[1]

	want := map[string]expect{}
	put := func(n *Node, level int, body []byte) string {
		t.Helper()
		id := newID()
		n.MustPut(t, id, level, body, "X-Meta-Name", fmt.Sprintf("object-%d.bin", len(want)))
		want[id] = liveExpect(body, level)
		return id
	}
	for i := range 20 {
		size := 1 + (i*7919)%(96<<10)
		if i%5 == 0 {
			size = 4<<20 - i*(1<<20)/5 // 4, 3, 2 and 1 MiB
		}
		put(c.Nodes[i%2], 2, randomBody(uint64(i), size))
	}
	var lowOn1, lowOn2 []string // levels 0 and 1, written on node 1 and node 2
	for level := range 2 {
		lowOn1 = append(lowOn1, put(n1, level, randomBody(uint64(100+level), 50<<10)))
		lowOn2 = append(lowOn2, put(n2, level, randomBody(uint64(200+level), 70<<10)))
	}
	eventually(t, 30*time.Second, "both nodes hold every record and level-2 body", func() error {
		if err := converged(c.Nodes, want); err != nil {
			return err
		}
		return errors.Join(localBodies(n1, want), localBodies(n2, want))
	})

	n3 := StartNode(t, NodeOpts{S3: c.Origin.S3Server, Bucket: c.Origin.Bucket, IP: c.NextIP(), Env: []string{
		"APP_CLUSTER_NODES=" + n2.PrivateAddr, "APP_CLUSTER_KEY=" + testClusterKey,
		"APP_CLUSTER_TAGNAME=" + testClusterTag, "APP_SYNC_INTERVAL=" + testSyncInterval,
	}})
	c.Nodes = append(c.Nodes, n3)
	WaitMembers(t, c.Nodes, 3)
	joined := time.Now()
	eventually(t, 60*time.Second, "the new node knows every record", func() error {
		return converged(c.Nodes, want)
	})
	eventually(t, 60*time.Second, "the new node holds every level-2 body", func() error {
		return localBodies(n3, want)
	})
	t.Logf("the new node had every record and level-2 body %v after it joined", time.Since(joined).Round(time.Millisecond))
	if err := readsConverged([]*Node{n3}, want, n3); err != nil {
		t.Fatal(err)
	}
	for _, id := range append(append([]string{}, lowOn1...), lowOn2...) {
		if r, err := n3.read(id); err != nil || r.Header.Get("X-Meta-Symlink") != "true" {
			t.Errorf("GET %s (level %d) on the new node: %v %v, want X-Meta-Symlink: true", id, want[id].Level, r, err)
		}
		if v := n3.Record(t, id); !v.IsSymlink {
			t.Errorf("meta %s (level %d) on the new node: is_symlink false", id, want[id].Level)
		}
	}

	// Node 2 loses everything and comes back as a new node.
	oldID := n2.NodeID(t)
	n2.Wipe(t)
	newID := n2.NodeID(t)
	if newID == oldID {
		t.Fatalf("node 2 kept its node ID %s after losing its state", oldID)
	}
	WaitMembers(t, c.Nodes, 3)
	// Its old self stopped cleanly (SIGTERM): it left.
	for _, n := range []*Node{n1, n3} {
		eventually(t, 10*time.Second, "node 2's old ID listed as left", func() error {
			if st := stateOf(n.Members(t), oldID); st != "left" {
				return fmt.Errorf("node %s lists node 2's old ID %s as %q, want left", n.PrivateAddr, oldID, st)
			}
			return nil
		})
	}
	wiped := time.Now()
	eventually(t, 60*time.Second, "the wiped node knows every record again", func() error {
		return converged(c.Nodes, want)
	})
	eventually(t, 60*time.Second, "the wiped node holds every level-2 body again", func() error {
		return localBodies(n2, want)
	})
	t.Logf("the wiped node had every record and level-2 body %v after its restart", time.Since(wiped).Round(time.Millisecond))

	// The level-0 and level-1 bodies node 2 held are gone with it.
	lost0, lost1 := lowOn2[0], lowOn2[1]
	readable := maps.Clone(want)
	delete(readable, lost0)
	delete(readable, lost1)
	if err := readsConverged(c.Nodes, readable, n2); err != nil {
		t.Fatal(err)
	}
	// Its level-1 object is still in S3: read it from there.
	r, err := n2.read(lost1, "X-Meta-Fetch", "1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusOK || r.SHA != want[lost1].SHA || r.Header.Get("X-Meta-Fetched") != "true" {
		t.Errorf("GET %s (level 1, written by node 2 before the wipe) on node 2 with X-Meta-Fetch: %s, want 200 with X-Meta-Fetched: true and the body", lost1, r)
	}
	for _, n := range []*Node{n1, n3} {
		r, err := n.read(lost1, "X-Meta-Fetch", "1")
		if err != nil {
			t.Fatal(err)
		}
		// From S3, or from node 2, which keeps what it fetched.
		if r.Status != http.StatusOK || r.SHA != want[lost1].SHA {
			t.Errorf("GET %s (level 1, its writer gone) on %s: %s, want 200 with the body", lost1, n.PrivateAddr, r)
		}
	}
	// Its level-0 object is known but no node holds it.
	if r, err := n1.read(lost0); err != nil || r.Status != http.StatusServiceUnavailable {
		t.Errorf("GET %s (level 0, its only holder wiped) on node 1: %v %v, want 503", lost0, r, err)
	}
}
