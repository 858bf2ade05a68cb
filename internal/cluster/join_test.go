package cluster

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSeedSchedule(t *testing.T) {
	t0 := time.Unix(1000, 0)
	cases := []struct {
		name     string
		outcomes []outcome
		wantWait time.Duration // from the last visit to the next
		wantMet  bool
	}{
		{"met", []outcome{seedMet}, seedCheckInterval, true},
		{"reached under another address", []outcome{seedReached}, seedRejoinInterval, true},
		{"first failure", []outcome{seedFailed}, joinBackoffMin, false},
		{"backoff doubles", []outcome{seedFailed, seedFailed, seedFailed}, 4 * joinBackoffMin, false},
		{"backoff is capped", []outcome{seedFailed, seedFailed, seedFailed, seedFailed, seedFailed, seedFailed}, joinBackoffMax, false},
		{"met resets the backoff", []outcome{seedFailed, seedFailed, seedMet, seedFailed}, joinBackoffMin, false},
		{"a met seed that goes is retried at once", []outcome{seedMet, seedFailed}, joinBackoffMin, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSeeds([]string{"a:1"})[0]
			now := t0
			for _, o := range tc.outcomes {
				now = s.next.Add(time.Millisecond)
				s.schedule(now, o)
			}
			if got := s.next.Sub(now); got != tc.wantWait {
				t.Errorf("next visit after %v, want %v", got, tc.wantWait)
			}
			if s.met != tc.wantMet {
				t.Errorf("met %v, want %v", s.met, tc.wantMet)
			}
		})
	}
}

func TestNewSeedsDropsDuplicates(t *testing.T) {
	got := newSeeds([]string{"a:1", "b:2", "a:1"})
	if len(got) != 2 || got[0].target != "a:1" || got[1].target != "b:2" {
		t.Errorf("newSeeds: %d seeds", len(got))
	}
}

// TestIslandMergesWithLateSeed forms an island the old join loop never left:
// a node whose seed is not up yet is joined by a third node; when the seed
// starts (alone, with no seeds of its own), the island must still reach it.
func TestIslandMergesWithLateSeed(t *testing.T) {
	seedAddr := freeAddr(t)
	a := startNode(t, func(c *Config) { c.Join = []string{seedAddr} })
	b := startNode(t, func(c *Config) { c.Join = []string{a.Addr()} })
	eventually(t, joinWithin, "a and b form an island", func() bool { return allAlive(a.Cluster, a.id, b.id) })

	late := startNode(t, func(c *Config) { c.BindAddr = seedAddr })
	ids := []string{a.id, b.id, late.id}
	for _, n := range []*testNode{a, b, late} {
		eventually(t, 3*joinBackoffMax, n.id+" lists all three alive", func() bool { return allAlive(n.Cluster, ids...) })
	}
}

// TestStartedAtOnceConverge starts ten members at the same moment, as a
// chain (member k seeds member k-1), as a star (all seed member 0) and with
// every member listing all: they must form one cluster, not islands.
func TestStartedAtOnceConverge(t *testing.T) {
	const n = 10
	layouts := map[string]func(k int) []int{
		"chain": func(k int) []int { return []int{k - 1} },
		"star":  func(k int) []int { return []int{0} },
		"all": func(k int) []int { // every member lists every other, itself too
			all := make([]int, n)
			for i := range all {
				all[i] = i
			}
			return all
		},
	}
	for name, seedsOf := range layouts {
		t.Run(name, func(t *testing.T) {
			addrs := make([]string, n)
			for k := range addrs {
				addrs[k] = freeAddr(t)
			}
			nodes := make([]*testNode, n)
			var wg sync.WaitGroup
			for k := range n {
				wg.Go(func() {
					nodes[k] = startNode(t, func(c *Config) {
						c.BindAddr = addrs[k]
						if k > 0 || name == "all" {
							for _, s := range seedsOf(k) {
								c.Join = append(c.Join, addrs[s])
							}
						}
					})
				})
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			ids := make([]string, n)
			for k, nd := range nodes {
				ids[k] = nd.id
			}
			start := time.Now()
			for _, nd := range nodes {
				eventually(t, joinWithin, nd.id+" lists all ten alive", func() bool { return allAlive(nd.Cluster, ids...) })
			}
			t.Logf("one cluster of %d after %v", n, time.Since(start))
			closeAll(t, nodes)
		})
	}
}

func TestMembersLoggedOnEveryNode(t *testing.T) {
	n1 := startNode(t, nil)
	n2 := startNode(t, func(c *Config) { c.Join = []string{n1.Addr()} })
	eventually(t, joinWithin, "join", func() bool { return allAlive(n1.Cluster, n1.id, n2.id) })

	joined := func(n *testNode, other *testNode) bool {
		return strings.Contains(n.logs.String(), `level=INFO msg="cluster: member joined" id=`+other.id+" addr="+other.Addr())
	}
	eventually(t, joinWithin, "n1 (the node joined) logs n2 joining", func() bool { return joined(n1, n2) })
	eventually(t, joinWithin, "n2 logs n1", func() bool { return joined(n2, n1) })

	if err := n2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, leaveWithin, "n1 logs n2 leaving", func() bool {
		return strings.Contains(n1.logs.String(), `level=INFO msg="cluster: member left" id=`+n2.id+" addr="+n2.Addr())
	})
}

// TestJoinPublicPortNamesPrivate points a node at an HTTP server that
// answers as a node's public API does: the refusal must say that it is a
// public port and name the private address the answer gives.
func TestJoinPublicPortNamesPrivate(t *testing.T) {
	const private = "127.0.0.9:11999"
	public := httptest.NewServer(WithPrivateAddr(http.NotFoundHandler(), private))
	t.Cleanup(public.Close)
	addr := strings.TrimPrefix(public.URL, "http://")

	n := startNode(t, func(c *Config) { c.Join = []string{addr} })
	want := "join refused: " + addr + " is a public port of an objstore node (it answers HTTP), not its private address; give -N its private address " + private
	eventually(t, joinWithin, "the refusal names the private address", func() bool {
		return strings.Contains(n.logs.String(), want)
	})
	if strings.Contains(n.logs.String(), "tag mismatch") {
		t.Errorf("the refusal still blames the tag or key:\n%s", n.logs)
	}
}

// closeAll closes the nodes at once (cleanup would close them one by one).
func closeAll(t *testing.T, nodes []*testNode) {
	var wg sync.WaitGroup
	for _, nd := range nodes {
		wg.Go(func() {
			if err := nd.Close(context.Background()); err != nil {
				t.Errorf("close %s: %v", nd.id, err)
			}
		})
	}
	wg.Wait()
}

// TestSeedRestartedAnewIsJoinedAgain closes a seed cleanly (it is "left",
// so the reconnect loop of dead members does not try it) and starts a
// node with a new identity and no seeds at its address: the node that
// listed it as a seed must join it again.
func TestSeedRestartedAnewIsJoinedAgain(t *testing.T) {
	s := startNode(t, nil)
	n := startNode(t, func(c *Config) { c.Join = []string{s.Addr()} })
	eventually(t, joinWithin, "join", func() bool { return allAlive(n.Cluster, n.id, s.id) })

	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, leaveWithin, "n lists the seed left", func() bool { return stateOf(n.Cluster, s.id) == StateLeft })
	anew := startNode(t, func(c *Config) { c.BindAddr = s.bind })
	eventually(t, 3*joinBackoffMax, "n joins the seed's new node", func() bool {
		return stateOf(n.Cluster, anew.id) == StateAlive && stateOf(anew.Cluster, n.id) == StateAlive
	})
}

// TestJoined: a node given no member to join is joined by configuration;
// one whose seed is not up yet is not, until it joins it; and it stays
// joined when that peer goes (it still serves what it holds).
func TestJoined(t *testing.T) {
	alone := startNode(t, nil)
	if !alone.Joined() {
		t.Error("a node with no member to join is not joined")
	}
	// A StatefulSet's first pod: its -N names only itself.
	own := freeAddr(t)
	selfOnly := startNode(t, func(c *Config) { c.BindAddr = own; c.Join = []string{own} })
	eventually(t, joinWithin, "a node whose only seed is itself is joined", selfOnly.Joined)
	peerAddr := freeAddr(t)
	early := startNode(t, func(c *Config) { c.Join = []string{peerAddr} })
	eventually(t, joinWithin, "early logs that the peer is not up", func() bool {
		return strings.Contains(early.logs.String(), "not reachable")
	})
	if early.Joined() {
		t.Fatal("joined before its only seed is up")
	}
	peer := startNode(t, func(c *Config) { c.BindAddr = peerAddr })
	eventually(t, 3*joinBackoffMax, "early joins the late peer", func() bool { return early.Joined() })
	if !peer.Joined() {
		t.Error("the peer, given no member to join, is not joined")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := peer.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !early.Joined() {
		t.Error("no longer joined once the peer left")
	}
}
