package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// hlReadyWithin bounds how long readiness may take to follow the origin:
// /readyz asks for a new probe when the last is 5 s old, and an origin that
// refuses connections fails its probe at once.
const hlReadyWithin = 30 * time.Second

// hlProbe reads path and checks that its answer is the one want allows:
// status and the text lines it must hold.
func hlProbe(n *Node, path string, status int, lines ...string) error {
	r, err := n.do(http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if r.Status != status {
		return fmt.Errorf("GET %s: %s, want %d", path, r, status)
	}
	for _, l := range lines {
		if !strings.Contains(string(r.Body), l) {
			return fmt.Errorf("GET %s: body %q lacks %q", path, r.Body, l)
		}
	}
	return nil
}

// TestHealthlogsReadinessFollowsTheOrigin stops the origin's server
// (versitygw) under two nodes and starts it again: /readyz of the node that
// needs its origin goes 503 naming the origin and comes back to 200; the
// node started with --ready-without-origin stays 200 and says it is
// degraded; /healthz stays 200 on both throughout. A third node whose -N
// names nowhere is not ready until it joins.
func TestHealthlogsReadinessFollowsTheOrigin(t *testing.T) {
	o := newOrigin(t)
	// Straight to versitygw, not through the counting proxy: a stopped
	// origin then refuses connections, as one that went down does.
	strict := o.StartNode(t, "--s3-endpoint", o.Direct)
	lenient := o.StartNode(t, "--s3-endpoint", o.Direct, "--ready-without-origin")

	for _, n := range []*Node{strict, lenient} {
		if err := hlProbe(n, "/readyz", 200, "ready\n", "journal: ok: open", "cluster: ok: no -N given", "origin: ok: s3 bucket"); err != nil {
			t.Fatal(err)
		}
		if err := hlProbe(n, "/healthz", 200, "ok\n"); err != nil {
			t.Fatal(err)
		}
		r, err := n.do(http.MethodGet, "/readyz", nil, "Accept", "application/json")
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Status string `json:"status"`
			Checks []struct {
				Name, Status, Detail string
			} `json:"checks"`
		}
		if err := json.Unmarshal(r.Body, &rep); err != nil || rep.Status != "ready" || len(rep.Checks) != 3 {
			t.Fatalf("readyz as JSON: %s (%v): want status ready and 3 checks", r, err)
		}
	}

	o.StopProcess(t)
	healthy := func() error {
		for _, n := range []*Node{strict, lenient} {
			if err := hlProbe(n, "/healthz", 200, "ok\n"); err != nil {
				return err
			}
		}
		return nil
	}
	took := eventually(t, hlReadyWithin, "readyz goes 503 when the origin stops", func() error {
		if err := healthy(); err != nil {
			t.Fatal(err)
		}
		return hlProbe(strict, "/readyz", 503, "not ready: origin\n", "origin: fail: unreachable since", "journal: ok")
	})
	t.Logf("not ready %v after the origin stopped", took.Round(time.Millisecond))
	eventually(t, hlReadyWithin, "the lenient node says it is degraded", func() error {
		return hlProbe(lenient, "/readyz", 200, "degraded: origin\n", "origin: degraded: unreachable since", "--ready-without-origin")
	})

	o.StartProcess(t)
	took = eventually(t, hlReadyWithin, "readyz comes back to 200 when the origin returns", func() error {
		if err := healthy(); err != nil {
			t.Fatal(err)
		}
		return hlProbe(strict, "/readyz", 200, "ready\n", "origin: ok")
	})
	t.Logf("ready again %v after the origin returned", took.Round(time.Millisecond))
	eventually(t, hlReadyWithin, "the lenient node is ready, not degraded, again", func() error {
		return hlProbe(lenient, "/readyz", 200, "ready\n", "origin: ok")
	})

	// A node whose only -N address has nothing listening has not joined.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := ln.Addr().String()
	_ = ln.Close() // a port that was just free: nothing listens there
	lonely := o.StartNode(t, "--s3-endpoint", o.Direct, "-N", nowhere)
	if err := hlProbe(lonely, "/readyz", 503, "not ready: cluster\n", "cluster: fail: not joined", "origin: ok"); err != nil {
		t.Fatal(err)
	}
	if err := hlProbe(lonely, "/healthz", 200, "ok\n"); err != nil {
		t.Fatal(err)
	}
}
