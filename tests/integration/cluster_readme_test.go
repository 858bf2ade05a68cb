package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestClusterReadmeTwoNodeSession replays the seed README's cluster session:
// a first node on the default private port, a second started with
// `-d 1 -N <host>` (a bare host: port 11999) and explicit --private-addr and
// --public-addr, and a third that knows only the second. Objects put on one
// node are read on the others, level 0 through the node that holds it.
func TestClusterReadmeTwoNodeSession(t *testing.T) {
	o := newOrigin(t)
	c := newCluster(t, ClusterOpts{Origin: o})
	start := func(ip string, port int, args ...string) *Node {
		t.Helper()
		args = append(append([]string{"-d", "1"}, args...), "--cluster-key", testClusterKey, "--tag", testClusterTag, "--sync-interval", testSyncInterval)
		n := StartNode(t, NodeOpts{S3: o.S3Server, Bucket: o.Bucket, IP: ip, PrivatePort: port, Args: args})
		c.Nodes = append(c.Nodes, n)
		return n
	}
	ip1 := c.NextIP()
	n1 := start(ip1, 11999)
	n2 := start(c.NextIP(), 0, "-N", ip1)
	n3 := start(c.NextIP(), 0, "-N", n2.PrivateAddr)
	took := waitMembersWithin(t, c.Nodes, 3, 10*time.Second)
	t.Logf("every node listed 3 alive members %v after node 3 answered", took.Round(time.Millisecond))
	checkMemberLists(t, c.Nodes)

	// Level 2, put on node 1, read on nodes 2 and 3.
	id := n1.NewID(t)
	body := []byte("It works!\n")
	n1.MustPut(t, id, 2, body, "X-Meta-Name", "test.txt")
	for _, n := range []*Node{n2, n3} {
		var r *response
		eventually(t, 10*time.Second, "level-2 object on node "+n.PrivateAddr, func() error {
			r = n.Get(t, id)
			if r.Status != http.StatusOK {
				return fmt.Errorf("GET %s: %s", id, r)
			}
			return nil
		})
		wantBody(t, r.Body, body, "GET level 2 on "+n.PrivateAddr)
		wantHeader(t, r, "X-Meta-Consistencylevel", "2", "GET level 2 on "+n.PrivateAddr)
		wantHeader(t, r, "X-Meta-Name", "test.txt", "GET level 2 on "+n.PrivateAddr)
		wantHeader(t, r, "Content-Type", "text/plain; charset=utf-8", "GET level 2 on "+n.PrivateAddr)
	}
	want2 := map[string]expect{id: liveExpect(body, 2)}
	eventually(t, 20*time.Second, "level-2 body on every node's disk", func() error {
		return readsConverged(c.Nodes, want2, c.Nodes...)
	})

	// Level 0 stays on node 1; node 3 streams it from there.
	id0 := n1.NewID(t)
	body0 := randomBody(7, 300<<10)
	n1.MustPut(t, id0, 0, body0, "X-Meta-Name", "blob.bin")
	var r *response
	eventually(t, 10*time.Second, "node 3 knows the level-0 object", func() error {
		r = n3.Get(t, id0)
		if r.Status != http.StatusOK {
			return fmt.Errorf("GET %s on node 3: %s", id0, r)
		}
		return nil
	})
	wantBody(t, r.Body, body0, "GET level 0 on node 3")
	wantHeader(t, r, "X-Meta-Symlink", "true", "GET level 0 on node 3")
	wantHeader(t, r, "X-Meta-Consistencylevel", "0", "GET level 0 on node 3")
	if m := n3.Record(t, id0); !m.IsSymlink {
		t.Errorf("meta %s on node 3: is_symlink false for a body node 1 holds", id0)
	}
	if m := n1.Record(t, id0); m.IsSymlink {
		t.Errorf("meta %s on node 1: is_symlink true for a body node 1 holds", id0)
	}
	for _, rg := range []struct {
		header     string
		from, to   int
		contentRng string
	}{
		{"bytes=1000-1999", 1000, 2000, fmt.Sprintf("bytes 1000-1999/%d", len(body0))},
		{"bytes=-100", len(body0) - 100, len(body0), fmt.Sprintf("bytes %d-%d/%d", len(body0)-100, len(body0)-1, len(body0))},
		{"bytes=200000-", 200000, len(body0), fmt.Sprintf("bytes 200000-%d/%d", len(body0)-1, len(body0))},
	} {
		what := "GET level 0 on node 3, Range " + rg.header
		r := n3.Get(t, id0, "Range", rg.header)
		wantStatus(t, r, http.StatusPartialContent, what)
		wantBody(t, r.Body, body0[rg.from:rg.to], what)
		wantHeader(t, r, "Content-Range", rg.contentRng, what)
		wantHeader(t, r, "X-Meta-Symlink", "true", what)
	}

	// Deletes on node 3 reach every node.
	for _, x := range []string{id, id0} {
		del := n3.Do(t, http.MethodPost, "/api/v1/delete/"+x, nil)
		wantStatus(t, del, http.StatusOK, "DELETE "+x+" on node 3")
	}
	gone := map[string]expect{id: {Known: true, Deleted: true}, id0: {Known: true, Deleted: true}}
	eventually(t, 10*time.Second, "deletes on every node", func() error {
		if err := converged(c.Nodes, gone); err != nil {
			return err
		}
		return readsConverged(c.Nodes, gone)
	})
}

// checkMemberLists checks that every node lists every node, itself marked
// self, with its ID and private address, in /api/v1/nodes and in the
// "nodes" of /api/v1/stats.
func checkMemberLists(t testing.TB, nodes []*Node) {
	t.Helper()
	var want []member
	for _, n := range nodes {
		want = append(want, member{ID: n.NodeID(t), Addr: n.PrivateAddr, State: "alive"})
	}
	byID := func(a, b member) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(want, byID)
	for i, n := range nodes {
		self := nodes[i].NodeID(t)
		var stats struct {
			Nodes []member `json:"nodes"`
		}
		r := n.Do(t, http.MethodGet, "/api/v1/stats", nil)
		wantStatus(t, r, http.StatusOK, "GET /api/v1/stats")
		if err := json.Unmarshal(r.Body, &stats); err != nil {
			t.Fatalf("stats on %s: %v in %s", n.PrivateAddr, err, r.Body)
		}
		for what, got := range map[string][]member{"/api/v1/nodes": n.Members(t), "/api/v1/stats nodes": stats.Nodes} {
			got = slices.Clone(got)
			slices.SortFunc(got, byID)
			var selves []string
			for j := range got {
				if got[j].Self {
					selves = append(selves, got[j].ID)
				}
				got[j].Self = false
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s on %s = %+v, want %+v", what, n.PrivateAddr, got, want)
			}
			if !slices.Equal(selves, []string{self}) {
				t.Errorf("%s on %s: self is %v, want [%s]", what, n.PrivateAddr, selves, self)
			}
		}
	}
}
