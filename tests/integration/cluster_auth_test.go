package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/peerapi"
)

// TestClusterWrongKeyAndTag starts a node with another --cluster-key, one
// with another tag (set through the environment) and one without a key, all
// told to join node 1 of a 2-node cluster. None joins, none learns a record,
// all log why; and node 1's private API refuses requests that are not
// signed with the cluster key, changing nothing.
func TestClusterWrongKeyAndTag(t *testing.T) {
	c := StartCluster(t, 2, ClusterOpts{})
	n1, n2 := c.Nodes[0], c.Nodes[1]
	members := []string{n1.NodeID(t), n2.NodeID(t)}
	slices.Sort(members)

	secret := []byte("a level-0 object on node 1\n")
	id := newID()
	n1.MustPut(t, id, 0, secret)
	live := map[string]expect{id: liveExpect(secret, 0)}
	eventually(t, 10*time.Second, "node 2 knows node 1's object", func() error {
		return converged(c.Nodes, live)
	})
	before := n1.Record(t, id).Version

	wrongKey := StartNode(t, NodeOpts{S3: c.Origin.S3Server, Bucket: c.Origin.Bucket, IP: c.NextIP(), Args: []string{
		"--cluster-key", "not-" + testClusterKey, "--tag", testClusterTag, "--sync-interval", testSyncInterval, "-N", n1.PrivateAddr,
	}})
	wrongTag := StartNode(t, NodeOpts{S3: c.Origin.S3Server, Bucket: c.Origin.Bucket, IP: c.NextIP(), Env: []string{
		"APP_CLUSTER_KEY=" + testClusterKey, "APP_CLUSTER_TAGNAME=not-" + testClusterTag,
		"APP_SYNC_INTERVAL=" + testSyncInterval, "APP_CLUSTER_NODES=" + n1.PrivateAddr,
	}})
	noKey := StartNode(t, NodeOpts{S3: c.Origin.S3Server, Bucket: c.Origin.Bucket, IP: c.NextIP(), Args: []string{
		"--tag", testClusterTag, "--sync-interval", testSyncInterval, "-N", n1.PrivateAddr,
	}})
	refused := []struct {
		n    *Node
		what string // the word the refusal must name
	}{{wrongKey, "key"}, {wrongTag, "tag"}, {noKey, "key"}}

	// Each refused node tried, and says why in its log, at least twice.
	for _, r := range refused {
		eventually(t, 30*time.Second, "the node with the wrong "+r.what+" logs two refused joins", func() error {
			if k := r.n.logCount(refusal(r.what)); k < 2 {
				return fmt.Errorf("%d log lines say the join was refused or rejected and name the %s", k, r.what)
			}
			return nil
		})
	}
	// A node without a key says loudly that it runs without one, and its
	// private API takes requests nobody signed.
	if noKey.logCount(func(line string) bool {
		return strings.Contains(line, "level=WARN") && strings.Contains(strings.ToLower(line), "no cluster key")
	}) == 0 {
		t.Error("the node without --cluster-key logged no warning about it")
	}
	resp, err := http.Get("http://" + noKey.PrivateAddr + "/private/v1/ping")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // the status is what counts
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /private/v1/ping unsigned on the node without a key: %s, want 200", resp.Status)
	}
	// They never appear, and see no one.
	checkApart := func() error {
		for _, n := range c.Nodes {
			ms, err := n.members()
			if err != nil {
				return err
			}
			var ids []string
			for _, m := range ms {
				ids = append(ids, m.ID)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, members) || !slices.Equal(alive(ms), members) {
				return fmt.Errorf("node %s lists %+v, want exactly the 2 cluster members alive", n.PrivateAddr, ms)
			}
		}
		for _, r := range refused {
			ms, err := r.n.members()
			if err != nil {
				return err
			}
			if len(ms) != 1 || !ms[0].Self {
				return fmt.Errorf("the node with the wrong %s lists %+v, want only itself", r.what, ms)
			}
		}
		return nil
	}
	holdFor(t, 3*time.Second, "membership with refused nodes around", checkApart)

	// Nothing can be read through them, nor leaks from them.
	theirs := newID()
	wrongKey.MustPut(t, theirs, 0, []byte("written on the node with the wrong key\n"))
	for _, r := range refused {
		if got := r.n.Get(t, id); got.Status != http.StatusNotFound {
			t.Errorf("GET %s (node 1's) on the node with the wrong %s: %s, want 404", id, r.what, got)
		}
	}
	unknown := map[string]expect{theirs: {}}
	if err := converged(c.Nodes, unknown); err != nil {
		t.Errorf("the wrong-key node's object reached the cluster: %v", err)
	}

	checkPrivateAuth(t, n1, c.Origin.Bucket, id)
	// Nothing changed.
	live[id] = expect{Known: true, Level: 0, SHA: sum(secret), ETag: live[id].ETag, Version: before}
	if err := converged(c.Nodes, live); err != nil {
		t.Errorf("after refused private requests: %v", err)
	}
	if err := readsConverged(c.Nodes, live); err != nil {
		t.Errorf("after refused private requests: %v", err)
	}
	if err := checkApart(); err != nil {
		t.Error(err)
	}
}

// refusal matches a log line that says a join was refused, or gossip
// rejected, and names what (key or tag).
func refusal(what string) func(line string) bool {
	return func(line string) bool {
		line = strings.ToLower(line)
		return (strings.Contains(line, "refused") || strings.Contains(line, "rejected")) && strings.Contains(line, what)
	}
}

// logCount counts the lines of the node's log that match.
func (n *Node) logCount(match func(line string) bool) int {
	k := 0
	for line := range strings.Lines(n.log.String()) {
		if match(line) {
			k++
		}
	}
	return k
}

// checkPrivateAuth sends node n's private API requests that are not signed
// with the cluster key: no signature, and a signature with another key.
// Each must get 401 with a one-line reason, a tombstone pushed for id
// included.
func checkPrivateAuth(t *testing.T, n *Node, bucket, id string) {
	t.Helper()
	clients := map[string]*statusRecorder{
		"without a signature":      {next: http.DefaultTransport},
		"signed with another key":  {next: signWith([]byte("another key"))},
		"signed with an empty key": {next: signWith(nil)},
	}
	for what, rec := range clients {
		hc := &http.Client{Transport: rec, Timeout: 10 * time.Second}
		for _, path := range []string{"/private/v1/digests", "/private/v1/ping"} {
			resp, err := hc.Get("http://" + n.PrivateAddr + path)
			if err != nil {
				t.Fatalf("GET %s %s: %v", path, what, err)
			}
			_ = resp.Body.Close() // the recorder read it
			reason := rec.last()
			if resp.StatusCode != http.StatusUnauthorized || strings.Count(reason, "\n") > 1 || strings.TrimSpace(reason) == "" {
				t.Errorf("GET %s on node 1's private address %s: %d %q, want 401 with a one-line reason", path, what, resp.StatusCode, reason)
			}
		}
		// A tombstone from the future for node 1's object.
		tomb := objstore.Record{
			Key:     objstore.Key{Bucket: bucket, ID: id},
			Version: objstore.Version{HLC: uint64(time.Now().Add(time.Hour).UnixMilli()) << 16, Node: "INTRUDER"},
			Deleted: true,
		}
		tomb.BodyVersion = tomb.Version
		peer := peerapi.NewClient(hc)
		err := peer.Push(context.Background(), objstore.Member{ID: "node1", Addr: n.PrivateAddr, State: "alive"}, []objstore.Record{tomb})
		if err == nil || rec.status() != http.StatusUnauthorized {
			t.Errorf("push of a tombstone to node 1's private API %s: status %d, err %v; want 401", what, rec.status(), err)
		}
	}
}

// signWith is a transport that signs requests as the cluster's nodes do,
// with key as the HMAC key.
func signWith(key []byte) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		r := req.Clone(req.Context())
		if err := peerapi.Sign(r, "INTRUDER", key); err != nil {
			return nil, err
		}
		return http.DefaultTransport.RoundTrip(r)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// statusRecorder is a transport that keeps the status and body (its first
// 64 KiB) of the last answer, and passes on a copy of that body.
type statusRecorder struct {
	next http.RoundTripper

	mu     sync.Mutex // guards code and body
	code   int
	reason string
}

func (s *statusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close() // read as far as kept; err is what matters
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.code, s.reason = resp.StatusCode, string(b)
	s.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

func (s *statusRecorder) status() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code
}

func (s *statusRecorder) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}
