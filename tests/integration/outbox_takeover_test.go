package integration

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestOutboxTakeover writes level-2 write-back objects on one node of
// three while the origin is down, then kills that node for good. Each
// PUT returned once the other two held the body (they read it locally,
// not from a peer). When the origin comes back, the surviving node with
// the lowest ID uploads the dead node's objects once
// --outbox-takeover-after has passed, and the other survivor takes none.
func TestOutboxTakeover(t *testing.T) {
	o := newOrigin(t)
	sw := outboxStartSwitch(t, o.Endpoint)
	c := StartCluster(t, 3, ClusterOpts{Origin: &origin{S3Server: sw.origin(o.S3Server), Bucket: o.Bucket, s3: o.s3},
		Args: append([]string{"--outbox-takeover-after=2s"}, outboxTimeouts...)})
	sw.set(true)
	ids := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		ids[i] = n.NodeID(t)
	}
	// The writer is the node with the highest ID, so that the takeover is
	// by one of the others, and which one is known.
	writer := slices.Index(ids, slices.Max(ids))
	w := c.Nodes[writer]
	var survivors []*Node
	for i, n := range c.Nodes {
		if i != writer {
			survivors = append(survivors, n)
		}
	}
	taker := survivors[0]
	if ids[slices.Index(c.Nodes, survivors[1])] < ids[slices.Index(c.Nodes, taker)] {
		taker = survivors[1]
	}
	acked := map[string][]byte{}
	for i := range 10 {
		id := newID()
		body := []byte(fmt.Sprintf("%s level-2 write-back body %d ", id, i))
		body = append(body, randomBody(uint64(i), 20_000+i)...)
		r, err := w.outboxPut(id, 2, body)
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("write-back PUT %s: %v %v", id, r, err)
		}
		acked[id] = body
		for _, n := range survivors {
			got := n.Get(t, id)
			wantStatus(t, got, http.StatusOK, "GET on a survivor")
			wantBody(t, got.Body, body, "GET on a survivor")
			if got.Header.Get("X-Meta-Symlink") != "" {
				t.Fatalf("GET %s on a survivor right after the PUT: read from a peer, want its own copy", id)
			}
		}
	}
	w.Kill() // gone for good
	gone := time.Now()
	sw.set(false)
	eventually(t, 2*time.Minute, "uploads taken over", func() error {
		if m := outboxMissing(t, o, acked); len(m) > 0 {
			return fmt.Errorf("%d missing, first %s", len(m), m[0])
		}
		return nil
	})
	t.Logf("all %d uploads of the dead node in the origin %v after the kill", len(acked), time.Since(gone).Round(time.Millisecond))
	for _, n := range survivors {
		for id := range acked {
			eventually(t, 30*time.Second, "uploaded on "+n.PublicAddr, func() error {
				if st, err := n.outboxUpload(id); err != nil || st != "uploaded" {
					return fmt.Errorf("%s: %q %v", id, st, err)
				}
				return nil
			})
		}
		want := int64(0)
		if n == taker {
			want = int64(len(acked))
		}
		// Counted just after each journal commit that says uploaded.
		eventually(t, 10*time.Second, "takeovers counted on "+n.PublicAddr, func() error {
			s, err := n.outbox()
			if err != nil || s.TakenOver != want {
				return fmt.Errorf("took over %d uploads (%v), want %d (taker: %v)", s.TakenOver, err, want, n == taker)
			}
			return nil
		})
	}
}
