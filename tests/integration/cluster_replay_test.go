package integration

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/clusterkey"
	"sphere.software/objstore/internal/peerapi"
)

// TestClusterPrivateReplay captures a push signed with the cluster's key,
// as node 2 would send it to node 1, and sends it again: to node 1, it is
// refused as replayed; to node 2, as addressed to another node. Neither
// changes anything.
func TestClusterPrivateReplay(t *testing.T) {
	c := StartCluster(t, 2, ClusterOpts{})
	n1, n2 := c.Nodes[0], c.Nodes[1]
	id1, id2 := n1.NodeID(t), n2.NodeID(t)

	body := []byte("an object deleted, then written again\n")
	id := newID()
	n1.MustPut(t, id, 0, body)

	// The captured push: a tombstone for the object, signed as node 2 signs.
	tomb := objstore.Record{
		Key:     objstore.Key{Bucket: c.Origin.Bucket, ID: id},
		Version: objstore.Version{HLC: uint64(time.Now().UnixMilli()) << 16, Node: id2},
		Deleted: true,
	}
	tomb.BodyVersion = tomb.Version
	capture := &capturer{key: clusterkey.Derive(testClusterKey, testClusterTag, clusterkey.PrivateAPI), node: id2}
	peer := peerapi.NewClient(&http.Client{Transport: capture, Timeout: 10 * time.Second})
	if err := peer.Push(context.Background(), objstore.Member{ID: id1, Addr: n1.PrivateAddr, State: "alive"}, []objstore.Record{tomb}); err != nil {
		t.Fatalf("the push to be captured: %v", err)
	}
	eventually(t, 10*time.Second, "both nodes know the object deleted", func() error {
		return converged(c.Nodes, map[string]expect{id: {Known: true, Deleted: true}})
	})

	// Written again, after the tombstone: what a replay must not undo.
	n1.MustPut(t, id, 0, body)
	live := map[string]expect{id: liveExpect(body, 0)}
	eventually(t, 10*time.Second, "both nodes know the object written again", func() error {
		return converged(c.Nodes, live)
	})
	before := n1.Record(t, id).Version

	for _, to := range []struct {
		n      *Node
		reason string
	}{{n1, "replayed"}, {n2, "addressed to node"}} {
		status, reason := capture.replay(t, to.n.PrivateAddr)
		if status != http.StatusUnauthorized || !strings.Contains(reason, to.reason) || strings.Count(reason, "\n") != 1 {
			t.Errorf("the captured push sent again to %s: %d %q, want 401 with a one-line reason saying %q", to.n.PrivateAddr, status, reason, to.reason)
		}
	}
	if n1.logCount(func(line string) bool {
		return strings.Contains(line, "private request rejected") && strings.Contains(line, "replayed")
	}) == 0 {
		t.Error("node 1 did not log the replay it refused")
	}
	live[id] = expect{Known: true, Level: 0, SHA: sum(body), ETag: live[id].ETag, Version: before}
	holdFor(t, 2*time.Second, "the object stays as written after the replays", func() error {
		if err := converged(c.Nodes, live); err != nil {
			return err
		}
		return readsConverged(c.Nodes, live)
	})
}

// capturer is a transport that signs requests with key as node, keeps the
// last one as sent, and sends it.
type capturer struct {
	key  []byte
	node string

	mu     sync.Mutex // guards the captured request
	method string
	url    string
	header http.Header
	body   []byte
}

func (c *capturer) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if err := peerapi.Sign(r, c.node, c.key); err != nil {
		return nil, err
	}
	var body []byte
	if r.GetBody != nil {
		rc, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		body, err = io.ReadAll(rc)
		if err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	c.method, c.url, c.header, c.body = r.Method, r.URL.String(), r.Header.Clone(), body
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// replay sends the captured request again, byte for byte, to addr and
// returns the status and body of the answer.
func (c *capturer) replay(t *testing.T, addr string) (int, string) {
	t.Helper()
	c.mu.Lock()
	method, url, header, body := c.method, c.url, c.header.Clone(), c.body
	c.mu.Unlock()
	if url == "" {
		t.Fatal("no request captured")
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Host, req.Host = addr, addr
	req.Header = header
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("replay to %s: %v", addr, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("replay to %s: read answer: %v", addr, err)
	}
	return resp.StatusCode, string(b)
}
