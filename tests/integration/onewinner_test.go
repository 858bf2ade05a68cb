package integration

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// winnerRounds is how many rounds of two concurrent writes each level
	// gets.
	winnerRounds = 40
	// winnerMaxSize bounds a body: sizes vary from 1 byte to it, so that
	// either upload may finish first.
	winnerMaxSize = 1 << 20
	// winnerWithin bounds the wait for the journals to agree after a round.
	winnerWithin = 20 * time.Second
)

// TestOneWinner writes one key from two nodes at once, round after round,
// at level 1 and level 2, with bodies of different sizes so that either
// upload may finish first. After every round both journals must hold one
// version, and the origin (read directly from versitygw) must hold that
// version's body: the origin never keeps the write the journals dropped.
func TestOneWinner(t *testing.T) {
	c := StartCluster(t, 2, ClusterOpts{})
	rng := rand.New(rand.NewPCG(11, 3))
	for _, level := range []int{1, 2} {
		t.Run(fmt.Sprintf("level%d", level), func(t *testing.T) {
			id := newID()
			superseded0, raced0 := winnerLogCounts(c.Nodes)
			wins := map[string]int{}
			for round := range winnerRounds {
				winner := winnerRound(t, c, rng, id, level, round)
				wins[winner]++
			}
			superseded, raced := winnerLogCounts(c.Nodes)
			t.Logf("level %d: %d rounds, origin held the journals' winner in every one; wins by node %v; "+
				"%d uploads skipped as superseded, %d conditional PUTs refused and read again",
				level, winnerRounds, wins, superseded-superseded0, raced-raced0)
		})
	}
}

// winnerRound PUTs two different bodies as id on the two nodes at the same
// moment, waits until both journals agree on one version, and checks the
// origin's body is that version's. It returns the ID of the winning node.
func winnerRound(t *testing.T, c *Cluster, rng *rand.Rand, id string, level, round int) string {
	t.Helper()
	bodies := make([][]byte, len(c.Nodes))
	etags := map[string]int{}
	for k := range bodies {
		bodies[k] = bytes.Repeat([]byte(fmt.Sprintf("round %d node %d|", round, k+1)), 1+rng.IntN(winnerMaxSize/16))
		etags[md5hex(bodies[k])] = k
	}
	start := make(chan struct{})
	errs := make([]error, len(c.Nodes))
	var wg sync.WaitGroup
	for k, n := range c.Nodes {
		wg.Go(func() {
			<-start
			r, err := n.do(http.MethodPost, "/api/v1/put", bytes.NewReader(bodies[k]), putHeaders(id, level)...)
			switch {
			case err != nil:
				errs[k] = err
			case r.Status != http.StatusOK:
				errs[k] = fmt.Errorf("PUT %s on node %d: %s", id, k+1, r)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	var agreed recordView
	eventually(t, winnerWithin, fmt.Sprintf("round %d: both journals on one version", round), func() error {
		var err error
		agreed, err = agreement(c.Nodes, id)
		return err
	})
	etag := strings.Trim(agreed.ETag, `"`)
	k, ok := etags[etag]
	if !ok {
		t.Fatalf("round %d: journals agree on etag %s, neither body written (%v)", round, etag, etags)
	}
	got, _ := c.Origin.Get(t, id)
	if !bytes.Equal(got, bodies[k]) {
		t.Fatalf("round %d: journals agree on %s (node %d's body, %d bytes), origin holds %d bytes with md5 %s",
			round, agreed, k+1, len(bodies[k]), len(got), md5hex(got))
	}
	return agreed.Version.Node
}

// winnerLogCounts counts, over the nodes' logs, the uploads skipped because
// the origin held a newer version and the conditional PUTs that found the
// origin changed since their HEAD.
func winnerLogCounts(nodes []*Node) (superseded, raced int) {
	for _, n := range nodes {
		superseded += n.logCount(func(l string) bool { return strings.Contains(l, "upload superseded") })
		raced += n.logCount(func(l string) bool { return strings.Contains(l, "origin changed during upload") })
	}
	return superseded, raced
}

// agreement returns the record of id when every node's journal holds the
// same live version of it, and an error saying how they differ otherwise.
func agreement(nodes []*Node, id string) (recordView, error) {
	var first recordView
	for k, n := range nodes {
		v, err := n.record(id)
		if err != nil {
			return v, err
		}
		if v.Status != http.StatusOK {
			return v, fmt.Errorf("node %d: %s", k+1, v)
		}
		if k == 0 {
			first = v
			continue
		}
		if v.Version != first.Version || v.ETag != first.ETag {
			return v, fmt.Errorf("node 1 has %s, node %d has %s", first, k+1, v)
		}
	}
	return first, nil
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// TestLevel1PutOverObjectWrittenAroundObjstore: a key the node has no
// record of gets its level-1 upload as If-None-Match: * without a HEAD
// first (docs/DESIGN.md, "One winner in the origin"). When another
// application has written that key straight into the origin, versitygw
// refuses the upload, the node reads the object and uploads again on its
// ETag, and the origin ends with objstore's body. A body above the
// headless limit (8 MiB) reads the origin first and is never refused.
func TestLevel1PutOverObjectWrittenAroundObjstore(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	refused := func() int {
		return n.logCount(func(l string) bool { return strings.Contains(l, "origin changed during upload") })
	}
	for _, tc := range []struct {
		name        string
		size        int
		wantRefusal bool
	}{
		{"small body: If-None-Match refused, then If-Match", 64 << 10, true},
		{"9 MiB body: HEAD first", 9 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := newID()
			o.putOrigin(t, id, randomBytes(21, 1000))
			before := refused()
			ours := randomBytes(22, tc.size)
			n.MustPut(t, id, 1, ours)
			if got, _ := o.Get(t, id); md5hex(got) != md5hex(ours) {
				t.Fatalf("the origin holds %d bytes (md5 %s) for %s, want objstore's %d bytes (md5 %s)", len(got), md5hex(got), id, len(ours), md5hex(ours))
			}
			n.MustGet(t, id, ours)
			if got := refused() - before; (got > 0) != tc.wantRefusal {
				t.Errorf("conditional uploads refused and read again: %d, want refusal %v", got, tc.wantRefusal)
			}
		})
	}
}
