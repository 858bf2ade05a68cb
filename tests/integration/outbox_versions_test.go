package integration

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestOutboxSupersededVersions writes three versions of one key in
// write-back mode while the origin is down, the second on another node:
// only the newest reaches the origin, in one PUT, and the older pending
// ones are never uploaded after it. Then a write-through PUT replaces a
// pending write-back version, and the origin keeps the write-through body.
func TestOutboxSupersededVersions(t *testing.T) {
	o := newOrigin(t)
	sw := outboxStartSwitch(t, o.Endpoint)
	c := StartCluster(t, 2, ClusterOpts{Origin: &origin{S3Server: sw.origin(o.S3Server), Bucket: o.Bucket, s3: o.s3},
		Args: outboxTimeouts})
	a, b := c.Nodes[0], c.Nodes[1]
	sw.set(true)
	id := newID()
	versions := [][]byte{[]byte("version one"), []byte("version two, written on b"), []byte("version three")}
	for i, body := range versions {
		n := a
		if i == 1 {
			n = b
		}
		r, err := n.outboxPut(id, 1, body)
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("write-back PUT %d: %v %v", i, r, err)
		}
		// The next version is written once both nodes know this one, as a
		// client that reads its write anywhere before writing again.
		for _, m := range c.Nodes {
			eventually(t, 10*time.Second, "version on every node", func() error {
				got, err := m.do(http.MethodGet, "/api/v1/get/"+id, nil)
				if err != nil || got.Status != http.StatusOK || !bytes.Equal(got.Body, body) {
					return fmt.Errorf("GET on %s: %v %v", m.PublicAddr, got, err)
				}
				return nil
			})
		}
	}
	o.ResetCounts()
	sw.set(false)
	for _, n := range c.Nodes {
		outboxDrained(t, n, time.Minute)
	}
	got, ok := o.getIfThere(t, id)
	if !ok || !bytes.Equal(got, versions[2]) {
		t.Fatalf("origin holds %q (there: %v), want the newest version", got, ok)
	}
	if puts := o.Count(http.MethodPut, o.Bucket); puts != 1 {
		t.Fatalf("%d PUTs reached the origin, want 1: a superseded version was uploaded", puts)
	}

	// A write-through PUT replaces a pending write-back version: the
	// pending one is dropped, never uploaded over it.
	sw.set(true)
	if r, err := a.outboxPut(id, 1, []byte("pending, then replaced")); err != nil || r.Status != http.StatusOK {
		t.Fatalf("write-back PUT: %v %v", r, err)
	}
	sw.set(false)
	through := []byte("written through")
	a.MustPut(t, id, 1, through)
	for _, n := range c.Nodes {
		outboxDrained(t, n, time.Minute)
	}
	holdFor(t, 2*time.Second, "origin keeps the write-through body", func() error {
		if got, _ := o.getIfThere(t, id); !bytes.Equal(got, through) {
			return fmt.Errorf("origin holds %q", got)
		}
		return nil
	})
}
