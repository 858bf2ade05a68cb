package integration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore/internal/objstoretest"
)

const (
	// invalidateWithin is how soon a change made directly in the origin
	// must reach every node by an event (issue 9: "within a second").
	invalidateWithin = time.Second
	// freshTTL is the --origin-ttl of the TTL and stale-if-error tests.
	freshTTL = time.Second
	// eventsToken is the nodes' --events-token.
	eventsToken = "objstore-it-events-token"
)

// newOriginWith is newOrigin with versitygw run as opts says.
func newOriginWith(t testing.TB, opts objstoretest.S3Opts) *origin {
	t.Helper()
	srv := objstoretest.StartS3With(t, opts)
	o := &origin{S3Server: srv, Bucket: "objstore-it"}
	srv.CreateBucket(t, o.Bucket)
	o.s3 = srv.Client(t)
	return o
}

// deleteOrigin removes an object straight from the origin bucket, as
// another application would.
func (o *origin) deleteOrigin(t testing.TB, id string) {
	t.Helper()
	if _, err := o.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(id)}); err != nil {
		t.Fatalf("S3 DeleteObject %s: %v", id, err)
	}
}

// savingsCount is a count in the total of /api/v1/stats' savings, under
// path (e.g. "revalidations", "not_modified"), in requests.
func savingsCount(t testing.TB, n *Node, path ...string) float64 {
	t.Helper()
	var v any = n.Stats(t)["savings"]
	for _, p := range append([]string{"total"}, path...) {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("/api/v1/stats: savings has no %v", path)
		}
		v = m[p]
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("/api/v1/stats: savings.total.%v is %v, want a count", path, v)
	}
	r, _ := m["requests"].(float64)
	return r
}

// allServe returns nil when a plain GET of id (no X-Meta-Fetch) on every
// node answers 200 with body's hash, or 404 when body is nil.
func allServe(nodes []*Node, id string, body []byte) error {
	var errs []error
	for _, n := range nodes {
		r, err := n.read(id)
		switch {
		case err != nil:
			errs = append(errs, err)
		case body == nil && r.Status != http.StatusNotFound:
			errs = append(errs, fmt.Errorf("GET %s on %s: %s, want 404", id, n.PublicAddr, r))
		case body != nil && (r.Status != http.StatusOK || r.SHA != sum(body)):
			errs = append(errs, fmt.Errorf("GET %s on %s: %s, want 200 with sha256 %.12s", id, n.PublicAddr, r, sum(body)))
		}
	}
	return errors.Join(errs...)
}

// startEventedCluster starts three nodes with --events-token on a
// versitygw that sends its event notifications, through a relay, to node 1.
func startEventedCluster(t testing.TB) (*origin, *Cluster, *eventRelay) {
	t.Helper()
	relay := newEventRelay(t)
	// No --event-filter: versitygw then sends every event kind.
	o := newOriginWith(t, objstoretest.S3Opts{Args: []string{"--event-webhook-url", relay.URL()}})
	c := StartCluster(t, 3, ClusterOpts{Origin: o, Args: []string{"--events-token", eventsToken}})
	relay.forwardTo(c.Nodes[0].URL("/api/v1/events?token=" + eventsToken))
	return o, c, relay
}

// versitygw's own event notifications, sent to node 1 of three, invalidate
// an object read through on all three: changed directly in the origin,
// every node serves the new body within a second; deleted there, every
// node answers 404 within a second. No TTL is set, so only the events can
// have told them.
func TestFreshEventsInvalidateCluster(t *testing.T) {
	o, c, relay := startEventedCluster(t)

	id := newID()
	v1, v2 := randomBytes(1, 64<<10), randomBytes(2, 80<<10)
	o.putOrigin(t, id, v1)
	// The creation's event finds nothing cached; wait for it so that it
	// cannot be taken for the change's.
	relay.waitEvents(t, id, 1, 10*time.Second)
	for _, n := range c.Nodes {
		n.MustGet(t, id, v1, "X-Meta-Fetch", "1")
	}
	if err := allServe(c.Nodes, id, v1); err != nil {
		t.Fatal(err)
	}

	o.putOrigin(t, id, v2)
	took := eventually(t, invalidateWithin, "every node serves the body changed in the origin", func() error {
		return allServe(c.Nodes, id, v2)
	})
	t.Logf("changed in the origin: every node served the new body after %v", took.Round(time.Millisecond))
	relay.waitEvents(t, id, 2, 10*time.Second)

	o.deleteOrigin(t, id)
	took = eventually(t, invalidateWithin, "every node answers 404 for the key deleted in the origin", func() error {
		return allServe(c.Nodes, id, nil)
	})
	t.Logf("deleted in the origin: every node answered 404 after %v", took.Round(time.Millisecond))
	relay.waitEvents(t, id, 3, 10*time.Second)
	for _, n := range c.Nodes {
		if v := n.Record(t, id); !v.Deleted {
			t.Errorf("meta %s on %s after the deletion: %s, want a tombstone", id, n.PublicAddr, v)
		}
	}
}

// A node with --origin-ttl 1s serves a read-through body as cached within
// the TTL although the origin changed; after it, the conditional GET gets
// the new body (200); once more after the TTL, unchanged, it gets a 304
// that keeps the body, counted in the savings.
func TestFreshTTLRevalidates(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t, "--origin-ttl", freshTTL.String())
	id := newID()
	v1, v2 := randomBytes(3, 48<<10), randomBytes(4, 56<<10)
	o.putOrigin(t, id, v1)

	filled := time.Now() // the node saw v1 current no earlier than this
	n.MustGet(t, id, v1, "X-Meta-Fetch", "1")
	seen := time.Now() // … and no later than this
	o.putOrigin(t, id, v2)
	r := n.Get(t, id)
	if time.Since(filled) >= freshTTL {
		t.Fatalf("the read within the TTL took until %v after the fill, past the TTL %v: the machine is too slow for this test", time.Since(filled), freshTTL)
	}
	wantStatus(t, r, http.StatusOK, "GET within the TTL")
	wantBody(t, r.Body, v1, "GET within the TTL (the origin changed, not yet revalidated)")

	refetched := savingsCount(t, n, "revalidations", "refetched")
	time.Sleep(time.Until(seen.Add(freshTTL)))
	gets := o.Count(http.MethodGet, o.Bucket)
	n.MustGet(t, id, v2)
	if got := o.Count(http.MethodGet, o.Bucket) - gets; got < 1 {
		t.Errorf("the GET after the TTL made %d origin GETs, want the conditional one", got)
	}
	if got := savingsCount(t, n, "revalidations", "refetched") - refetched; got != 1 {
		t.Errorf("revalidations refetched went up by %.0f, want 1", got)
	}

	seen = time.Now() // v2 was seen current before this
	notModified := savingsCount(t, n, "revalidations", "not_modified")
	time.Sleep(time.Until(seen.Add(freshTTL)))
	gets = o.Count(http.MethodGet, o.Bucket)
	n.MustGet(t, id, v2)
	if got := o.Count(http.MethodGet, o.Bucket) - gets; got != 1 {
		t.Errorf("the GET after the TTL, the origin unchanged, made %d origin GETs, want the conditional one", got)
	}
	if got := savingsCount(t, n, "revalidations", "not_modified") - notModified; got != 1 {
		t.Errorf("revalidations not_modified went up by %.0f, want 1 (a 304)", got)
	}
	// Just revalidated: the next GET is served without asking the origin.
	gets = o.Count(http.MethodGet, o.Bucket)
	n.MustGet(t, id, v2)
	if got := o.Count(http.MethodGet, o.Bucket) - gets; got != 0 {
		t.Errorf("a GET right after the revalidation made %d origin GETs, want 0", got)
	}
}

// With the origin stopped, a node with --origin-ttl 1s --stale-if-error 2s
// still serves a read-through body after the TTL, marked stale; past the
// bound it fails as an origin error.
func TestFreshStaleIfError(t *testing.T) {
	const staleFor = 2 * time.Second
	o := newOrigin(t) // this test's own versitygw: stopping it touches no other test
	n := o.StartNode(t, "--origin-ttl", freshTTL.String(), "--stale-if-error", staleFor.String())
	id := newID()
	body := randomBytes(5, 40<<10)
	o.putOrigin(t, id, body)
	filled := time.Now() // the node saw the body current no earlier than this
	n.MustGet(t, id, body, "X-Meta-Fetch", "1")
	seen := time.Now() // … and no later than this

	o.Stop(t)
	time.Sleep(time.Until(seen.Add(freshTTL)))
	r := n.Get(t, id)
	if time.Since(filled) >= freshTTL+staleFor {
		t.Fatalf("the stale read ended %v after the fill, past TTL + stale-if-error %v: the machine is too slow for this test", time.Since(filled), freshTTL+staleFor)
	}
	wantStatus(t, r, http.StatusOK, "GET after the TTL with the origin stopped")
	wantBody(t, r.Body, body, "GET after the TTL with the origin stopped")
	wantHeader(t, r, "X-Objstore-Stale", "true", "GET after the TTL with the origin stopped")

	time.Sleep(time.Until(seen.Add(freshTTL + staleFor)))
	r = n.Get(t, id)
	if r.Status != http.StatusBadGateway && r.Status != http.StatusServiceUnavailable {
		t.Errorf("GET past TTL + stale-if-error with the origin stopped: %s, want 502 or 503", r)
	}
	if r.Header.Get("X-Objstore-Stale") != "" {
		t.Errorf("GET past TTL + stale-if-error: X-Objstore-Stale %q, want none", r.Header.Get("X-Objstore-Stale"))
	}
}

// An object written through objstore (level 2: every node and the origin)
// and then changed directly in the origin: the event of objstore's own
// upload changes nothing; the origin's change wins on every node within a
// second; a later write through objstore wins again, in the origin too.
// See docs/DESIGN.md, "What wins when the origin changes an object
// objstore also wrote".
func TestFreshEventsOriginChangesOwnWrite(t *testing.T) {
	o, c, relay := startEventedCluster(t)
	n1, n2, n3 := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	id := newID()
	w1, w2, w3 := randomBytes(11, 30<<10), randomBytes(12, 31<<10), randomBytes(13, 32<<10)

	n2.MustPut(t, id, 2, w1)
	relay.waitEvents(t, id, 1, 10*time.Second) // the echo of the upload
	eventually(t, 10*time.Second, "every node serves the body written through objstore", func() error {
		return allServe(c.Nodes, id, w1)
	})
	written := n1.Record(t, id)

	o.putOrigin(t, id, w2)
	took := eventually(t, 10*time.Second, "every node serves the body changed in the origin over objstore's write", func() error {
		return allServe(c.Nodes, id, w2)
	})
	t.Logf("changed in the origin: every node served the origin's body after %v", took.Round(time.Millisecond))
	relay.waitEvents(t, id, 2, 10*time.Second)
	if v := n1.Record(t, id); !written.Version.less(v.Version) {
		t.Errorf("meta %s after the origin's change: version %s, want newer than objstore's write %s", id, v.Version, written.Version)
	}

	n3.MustPut(t, id, 2, w3)
	relay.waitEvents(t, id, 3, 10*time.Second) // the echo of this upload
	eventually(t, 10*time.Second, "every node serves the body written through objstore after the origin's change", func() error {
		return allServe(c.Nodes, id, w3)
	})
	if got, _ := o.Get(t, id); sum(got) != sum(w3) {
		t.Errorf("the origin holds sha256 %.12s for %s, want the last write through objstore (%.12s)", sum(got), id, sum(w3))
	}
}
