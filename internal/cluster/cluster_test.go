package cluster

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sphere.software/objstore"
)

const (
	// Generous bounds: CI machines have 2 cores and run the race detector.
	joinWithin  = 20 * time.Second
	leaveWithin = 20 * time.Second
)

func TestThreeNodesJoinAndLeave(t *testing.T) {
	n1 := startNode(t, nil)
	n2 := startNode(t, func(c *Config) { c.Join = []string{n1.Addr()} })
	n3 := startNode(t, func(c *Config) { c.Join = []string{n2.Addr()} }) // n1 only through n2

	ids := []string{n1.id, n2.id, n3.id}
	for _, n := range []*testNode{n1, n2, n3} {
		eventually(t, joinWithin, n.id+" lists all three alive", func() bool { return allAlive(n.Cluster, ids...) })
	}
	for _, m := range n2.Members() {
		if m.Self != (m.ID == n2.id) {
			t.Errorf("n2 lists %+v: Self wrong", m)
		}
		if _, _, err := net.SplitHostPort(m.Addr); err != nil || m.Addr == "" {
			t.Errorf("n2 lists %+v: Addr is not host:port", m)
		}
	}
	if !strings.Contains(n3.logs.String(), "joined cluster") {
		t.Errorf("n3 did not log joining:\n%s", n3.logs)
	}

	if err := n3.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*testNode{n1, n2} {
		eventually(t, leaveWithin, n.id+" lists n3 left", func() bool { return stateOf(n.Cluster, n3.id) == StateLeft })
	}
}

// TestPrivateAPIOnSharedPort checks that HTTP requests on the gossip port
// reach Config.Handler, bodies intact, while the nodes gossip.
func TestPrivateAPIOnSharedPort(t *testing.T) {
	n1 := startNode(t, func(c *Config) { c.Key = "k1" })
	n2 := startNode(t, func(c *Config) { c.Key = "k1"; c.Join = []string{n1.Addr()} })
	eventually(t, joinWithin, "n1 and n2 joined", func() bool { return allAlive(n1.Cluster, n1.id, n2.id) })

	url := "http://" + n1.Addr() + "/private/v1/echo"
	if status, body := get(t, plainClient(), url); status != http.StatusOK || !strings.HasSuffix(body, "|") {
		t.Errorf("GET: %d %q, want 200 and an empty body echoed", status, body)
	}
	resp, err := plainClient().Post(url+"?x=1", "application/octet-stream", strings.NewReader("records"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(string(body), "|records") {
		t.Errorf("POST: %d %q", resp.StatusCode, body)
	}
}

// TestStreamAndHTTPAtOnce holds a private HTTP request open on n1's port
// while a new node joins through the same port (a memberlist stream).
func TestStreamAndHTTPAtOnce(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	n1 := startNode(t, func(c *Config) {
		c.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			w.Write([]byte("done"))
		})
	})
	var wg sync.WaitGroup
	var status int
	wg.Add(1)
	go func() {
		defer wg.Done()
		status, _ = get(t, plainClient(), "http://"+n1.Addr()+"/private/v1/slow")
	}()
	<-entered
	n2 := startNode(t, func(c *Config) { c.Join = []string{n1.Addr()} })
	eventually(t, joinWithin, "n2 joined while n1 serves HTTP", func() bool { return allAlive(n2.Cluster, n1.id, n2.id) })
	close(release)
	wg.Wait()
	if status != http.StatusOK {
		t.Errorf("slow request: %d", status)
	}
}

func TestWrongTagCannotJoin(t *testing.T) {
	n1 := startNode(t, nil) // tag "default"
	blue := startNode(t, func(c *Config) { c.Tag = "blue"; c.Join = []string{n1.Addr()} })

	eventually(t, joinWithin, "blue logs the refused join", func() bool {
		return strings.Contains(blue.logs.String(), "join refused")
	})
	eventually(t, joinWithin, "n1 logs the rejected attempt", func() bool {
		return strings.Contains(n1.logs.String(), "level=WARN msg=\""+rejectedMsg)
	})
	if ms := blue.Members(); len(ms) != 1 {
		t.Errorf("blue lists %s, want only itself", memberIDs(ms))
	}
	if ms := n1.Members(); len(ms) != 1 {
		t.Errorf("n1 lists %s, want only itself", memberIDs(ms))
	}
	if !strings.Contains(blue.logs.String(), "cluster tag mismatch or wrong cluster key?") {
		t.Errorf("blue's refusal does not name the likely cause:\n%s", blue.logs)
	}
}

func TestWrongKeyCannotJoin(t *testing.T) {
	n1 := startNode(t, func(c *Config) { c.Key = "k1" })
	k2 := startNode(t, func(c *Config) { c.Key = "k2"; c.Join = []string{n1.Addr()} })

	eventually(t, joinWithin, "k2 logs the refused join", func() bool {
		return strings.Contains(k2.logs.String(), "join refused")
	})
	eventually(t, joinWithin, "n1 logs the rejected attempt", func() bool {
		return strings.Contains(n1.logs.String(), rejectedMsg)
	})
	if ms := n1.Members(); len(ms) != 1 {
		t.Errorf("n1 lists %s, want only itself", memberIDs(ms))
	}
}

func TestNoKeyWarns(t *testing.T) {
	n1 := startNode(t, nil)
	if !strings.Contains(n1.logs.String(), "level=WARN msg=\""+noKeyWarning) {
		t.Errorf("no warning about the missing key:\n%s", n1.logs)
	}
}

// TestJoinRetriesUntilPeerStarts starts a node whose only join address has
// nothing listening yet, then starts the peer there.
func TestJoinRetriesUntilPeerStarts(t *testing.T) {
	peerAddr := freeAddr(t)
	early := startNode(t, func(c *Config) { c.Join = []string{peerAddr} })
	eventually(t, joinWithin, "early logs that the peer is not up", func() bool {
		return strings.Contains(early.logs.String(), "not reachable")
	})

	peer := startNode(t, func(c *Config) { c.BindAddr = peerAddr })
	eventually(t, 3*joinBackoffMax, "early joins the late peer", func() bool {
		return allAlive(early.Cluster, early.id, peer.id) && allAlive(peer.Cluster, early.id, peer.id)
	})
}

func TestPortInUseFailsFast(t *testing.T) {
	n1 := startNode(t, nil)
	_, err := Start(context.Background(), Config{NodeID: "x", BindAddr: n1.bind})
	if err == nil {
		t.Fatal("second Start on a used port succeeded")
	}
}

// TestSourceAddress checks that a node bound to 127.0.0.11 talks to its
// peer from 127.0.0.11, over HTTP and over memberlist.
func TestSourceAddress(t *testing.T) {
	if !canBind("127.0.0.11") || !canBind("127.0.0.12") {
		t.Skip("this system cannot bind 127.0.0.11 and 127.0.0.12")
	}
	var mu sync.Mutex
	var remote string
	peer := startNode(t, func(c *Config) {
		c.BindAddr = "127.0.0.12:0"
		c.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			remote = r.RemoteAddr
			mu.Unlock()
		})
	})
	n := startNode(t, func(c *Config) { c.BindAddr = "127.0.0.11:0"; c.Join = []string{peer.Addr()} })
	eventually(t, joinWithin, "join", func() bool { return allAlive(peer.Cluster, n.id, peer.id) })
	if want := "127.0.0.11:" + strconv.Itoa(n.tr.port()); n.Addr() != want {
		t.Errorf("advertised %s, want %s", n.Addr(), want)
	}

	if ip := n.SourceIP(); ip.String() != "127.0.0.11" {
		t.Fatalf("SourceIP %v, want 127.0.0.11", ip)
	}
	if status, _ := get(t, clientFrom(n.SourceIP()), "http://"+peer.Addr()+"/private/v1/x"); status != http.StatusOK {
		t.Fatalf("GET: %d", status)
	}
	mu.Lock()
	host, _, _ := net.SplitHostPort(remote)
	mu.Unlock()
	if host != "127.0.0.11" {
		t.Errorf("peer saw the HTTP request from %s, want 127.0.0.11", remote)
	}
}

func TestOnChange(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	n1 := startNode(t, func(c *Config) {
		c.OnChange = func(m objstore.Member) {
			mu.Lock()
			seen[m.ID] = m.State
			mu.Unlock()
		}
	})
	n2 := startNode(t, func(c *Config) { c.Join = []string{n1.Addr()} })
	state := func(id string) string {
		mu.Lock()
		defer mu.Unlock()
		return seen[id]
	}
	eventually(t, joinWithin, "OnChange: n1 alive", func() bool { return state(n1.id) == StateAlive })
	eventually(t, joinWithin, "OnChange: n2 alive", func() bool { return state(n2.id) == StateAlive })
	eventually(t, joinWithin, "n2 joined", func() bool { return allAlive(n2.Cluster, n1.id, n2.id) })
	if err := n2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, leaveWithin, "OnChange: n2 left", func() bool { return state(n2.id) == StateLeft })
}

func TestCloseTwice(t *testing.T) {
	n := startNode(t, nil)
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// crash stops n as a killed process would: no leave, no drain.
func crash(t *testing.T, n *testNode) {
	t.Helper()
	n.closeOnce.Do(func() {
		n.cancel()
		_ = n.srv.Close()
		_ = n.ml.Shutdown()
		n.wg.Wait()
	})
}

// TestCrashedNodeIsDeadThenReconnected crashes a node, checks that its peer
// finds it dead, then restarts it on the same address with no join list:
// the peer's reconnect loop must bring it back.
func TestCrashedNodeIsDeadThenReconnected(t *testing.T) {
	n1 := startNode(t, nil)
	n2 := startNode(t, func(c *Config) { c.Join = []string{n1.Addr()} })
	eventually(t, joinWithin, "join", func() bool { return allAlive(n1.Cluster, n1.id, n2.id) })

	crash(t, n2)
	eventually(t, 20*time.Second, "n1 lists n2 dead", func() bool { return stateOf(n1.Cluster, n2.id) == StateDead })

	again := startNode(t, func(c *Config) { c.NodeID = n2.id; c.BindAddr = n2.bind })
	eventually(t, 3*reconnectInterval, "n1 reconnects to the restarted n2", func() bool {
		return allAlive(n1.Cluster, n1.id, n2.id) && allAlive(again.Cluster, n1.id, n2.id)
	})
}
