package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// convergeNodes is how many nodes start at once.
	convergeNodes = 10
	// convergeWithin bounds the wait, from the moment every node answers a
	// ping, until each lists all convergeNodes alive.
	convergeWithin = 10 * time.Second
	// convergeWrites is how many level-0 writes are spread over the nodes.
	convergeWrites = 2000
	// writesWithin bounds the wait until every journal holds every write.
	writesWithin = 60 * time.Second
)

// TestStartedAtOnceConverge starts ten nodes at the same moment, as a chain
// (node k seeds node k-1 only) and as a star (every node seeds node 1), the
// ways a script, systemd at boot or a StatefulSet start them. They must
// form one cluster within convergeWithin, not islands, and writes spread
// over the nodes must reach every node's journal.
func TestStartedAtOnceConverge(t *testing.T) {
	layouts := []struct {
		name   string
		seedOf func(k int) int
	}{
		{"chain", func(k int) int { return k - 1 }},
		{"star", func(int) int { return 0 }},
	}
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			c := newCluster(t, ClusterOpts{})
			nodes := c.StartAtOnce(t, convergeNodes, func(k int) []int {
				if k == 0 {
					return nil
				}
				return []int{l.seedOf(k)}
			})
			took := waitMembersWithin(t, nodes, convergeNodes, convergeWithin)
			t.Logf("%d nodes started at once as a %s: one cluster %v after all were up", convergeNodes, l.name, took)
			checkMembersLogged(t, nodes)
			start := time.Now()
			writeSpread(t, nodes, convergeWrites)
			wrote := time.Since(start)
			took = eventually(t, writesWithin, fmt.Sprintf("%d objects in every journal", convergeWrites), func() error {
				return allCount(nodes, convergeWrites)
			})
			t.Logf("%d level-0 writes took %v, and were in every journal %v later", convergeWrites, wrote, took)
			stopAll(nodes)
		})
	}
}

// StartAtOnce makes n more members of c, each on its own address, then
// launches them all at the same moment, member k with -N the private
// addresses of the members seeds(k) lists (indexes among the n), and
// returns once every one answers a ping. It does not wait for membership.
func (c *Cluster) StartAtOnce(t testing.TB, n int, seeds func(k int) []int) []*Node {
	t.Helper()
	nodes := make([]*Node, n)
	for k := range nodes {
		args := append(c.Args(""), c.opts.Args...)
		nodes[k] = newNode(t, NodeOpts{S3: c.Origin.S3Server, Bucket: c.Origin.Bucket, IP: c.NextIP(), Args: args})
	}
	for k, nd := range nodes {
		var join []string
		for _, s := range seeds(k) {
			join = append(join, nodes[s].PrivateAddr)
		}
		if len(join) > 0 {
			nd.opts.Args = append(nd.opts.Args, "-N", strings.Join(join, ","))
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k, nd := range nodes {
		wg.Go(func() { errs[k] = nd.launch() })
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			t.Fatalf("start node %d of %d at once: %v", k+1, n, err)
		}
	}
	c.Nodes = append(c.Nodes, nodes...)
	return nodes
}

// stopAll stops the nodes at once (cleanup would stop them one by one).
func stopAll(nodes []*Node) {
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(n.Stop)
	}
	wg.Wait()
}

// checkMembersLogged checks that every node logged, at info, each other
// node joining, with its ID and private address: the node that was joined
// as well as the node that joined.
func checkMembersLogged(t *testing.T, nodes []*Node) {
	t.Helper()
	ids := make([]string, len(nodes))
	for k, n := range nodes {
		ids[k] = n.NodeID(t)
	}
	for _, n := range nodes {
		for k, other := range nodes {
			if other == n {
				continue
			}
			want := func(line string) bool {
				return strings.Contains(line, "level=INFO") && strings.Contains(line, `msg="cluster: member joined"`) &&
					strings.Contains(line, "id="+ids[k]) && strings.Contains(line, "addr="+other.PrivateAddr)
			}
			if n.logCount(want) == 0 {
				t.Errorf("node %s did not log member %s (%s) joining", n.PrivateAddr, ids[k], other.PrivateAddr)
			}
		}
	}
}

// writeSpread writes count new objects at level 0, round robin over the
// nodes, from a few clients at once.
func writeSpread(t *testing.T, nodes []*Node, count int) {
	t.Helper()
	const clients = 8
	work := make(chan int)
	errc := make(chan error, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range work {
				n := nodes[i%len(nodes)]
				r, err := n.do(http.MethodPost, "/api/v1/put", strings.NewReader(fmt.Sprintf("object %d", i)), putHeaders(newID(), 0)...)
				if err == nil && r.Status != http.StatusOK {
					err = fmt.Errorf("PUT %d on %s: %s", i, n.PublicAddr, r)
				}
				if err != nil {
					errc <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range count {
		select {
		case work <- i:
		case err = <-errc:
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil && len(errc) > 0 {
		err = <-errc
	}
	if err != nil {
		t.Fatal(err)
	}
}

// allCount checks that every node's /api/v1/stats counts want live objects.
func allCount(nodes []*Node, want int64) error {
	var short []string
	for _, n := range nodes {
		got, err := objectCount(n)
		if err != nil {
			return err
		}
		if got != want {
			short = append(short, fmt.Sprintf("%s has %d", n.PrivateAddr, got))
		}
	}
	if len(short) > 0 {
		return fmt.Errorf("want %d objects: %s", want, strings.Join(short, ", "))
	}
	return nil
}

// objectCount is the live object count of GET /api/v1/stats.
func objectCount(n *Node) (int64, error) {
	r, err := n.do(http.MethodGet, "/api/v1/stats", nil)
	if err != nil {
		return 0, err
	}
	var s struct {
		Objects struct {
			Objects int64 `json:"objects"`
		} `json:"objects"`
	}
	if r.Status != http.StatusOK {
		return 0, fmt.Errorf("stats on %s: %s", n.PublicAddr, r)
	}
	if err := json.Unmarshal(r.Body, &s); err != nil {
		return 0, fmt.Errorf("stats on %s: %v in %s", n.PublicAddr, err, r.Body)
	}
	return s.Objects.Objects, nil
}

// TestJoinPublicPort points -N at a node's public port and at its S3 API
// port: the joining node must say that it is a public port and name the
// node's private address, not blame the tag or the key.
func TestJoinPublicPort(t *testing.T) {
	c := newCluster(t, ClusterOpts{})
	target := c.Add(t, "")
	for name, addr := range map[string]string{"native API": target.PublicAddr, "S3 API": target.S3Addr} {
		t.Run(name, func(t *testing.T) {
			n := c.Add(t, addr)
			want := func(line string) bool {
				return strings.Contains(line, "level=ERROR") && strings.Contains(line, addr+" is a public port") &&
					strings.Contains(line, "give -N its private address "+target.PrivateAddr)
			}
			eventually(t, membersTimeout, "the joining node names the private address", func() error {
				if n.logCount(want) == 0 {
					return fmt.Errorf("no such line in:\n%s", n.tail())
				}
				return nil
			})
			if k := n.logCount(func(line string) bool { return strings.Contains(line, "tag mismatch") }); k > 0 {
				t.Errorf("the node still blames the tag or key in %d lines", k)
			}
		})
	}
}
