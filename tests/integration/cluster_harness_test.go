package integration

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// testClusterKey and testClusterTag are what StartCluster's nodes share.
	testClusterKey = "objstore-integration-key"
	testClusterTag = "objstore-it"
	// testSyncInterval is the nodes' anti-entropy period.
	testSyncInterval = "500ms"
	// membersTimeout bounds how long WaitMembers waits for a membership view.
	membersTimeout = 30 * time.Second
	// pollInterval is how often eventually checks its condition.
	pollInterval = 50 * time.Millisecond
)

// ipBlocks counts the /24 address blocks handed out: cluster b binds
// 127.0.b.11, 127.0.b.12, … (169.254.b.11, … when isolated) so that every
// node of a test process has an address of its own, in logs and member
// lists as on the wire.
var ipBlocks atomic.Int32

// ClusterOpts says how StartCluster runs its nodes.
type ClusterOpts struct {
	// Origin is the S3 server and bucket all nodes share; nil means a new one.
	Origin *origin
	// Args are appended to every node's command line.
	Args []string
	// Isolated runs each node in a network namespace of its own, joined to
	// the others by a bridge in a namespace the test owns, on a link-local
	// address: Partition needs it. The test is skipped without root.
	Isolated bool
}

// Cluster is a set of nodes started by StartCluster, each on its own
// loopback address, sharing one key, one tag and one bucket.
type Cluster struct {
	Origin *origin
	// Nodes are in start order: Nodes[0] started alone, Nodes[k] joined
	// Nodes[k-1].
	Nodes []*Node

	opts  ClusterOpts
	block int32
	hosts int      // addresses handed out so far
	net   *network // the test network when Isolated, else nil
}

// StartCluster starts n nodes on 127.0.b.11, .12, … (b is 0 for the first
// cluster of the test process; 169.254.b.11, … in namespaces of their own
// when opts.Isolated): node 1 alone, node k joining node k-1 only,
// all with the same --cluster-key and --tag and --sync-interval 500ms, on
// one versitygw bucket. It returns once every node lists n alive members.
func StartCluster(t testing.TB, n int, opts ClusterOpts) *Cluster {
	t.Helper()
	c := newCluster(t, opts)
	for i := range n {
		join := ""
		if i > 0 {
			join = c.Nodes[i-1].PrivateAddr
		}
		c.Add(t, join)
	}
	WaitMembers(t, c.Nodes, n)
	return c
}

// newCluster is a Cluster with its own block of loopback addresses and no
// nodes yet.
func newCluster(t testing.TB, opts ClusterOpts) *Cluster {
	t.Helper()
	if opts.Isolated {
		requireNetns(t) // skip before an origin is started for nothing
	}
	if opts.Origin == nil {
		opts.Origin = newOrigin(t)
	}
	c := &Cluster{Origin: opts.Origin, opts: opts, block: ipBlocks.Add(1) - 1}
	if c.block > 255 {
		t.Fatal("out of loopback address blocks")
	}
	if opts.Isolated {
		u, err := url.Parse(opts.Origin.S3Server.Endpoint)
		if err != nil {
			t.Fatalf("origin endpoint: %v", err)
		}
		c.net = newNetwork(t, u.Host)
	}
	return c
}

// NextIP hands out the cluster's next address: on the host's loopback, or
// link-local inside the test network when the cluster is isolated.
func (c *Cluster) NextIP() string {
	c.hosts++
	if c.net != nil {
		return fmt.Sprintf("169.254.%d.%d", c.block, 10+c.hosts)
	}
	return fmt.Sprintf("127.0.%d.%d", c.block, 10+c.hosts)
}

// Args is the cluster part of a member's command line: key, tag and sync
// interval, and -N join unless join is empty.
func (c *Cluster) Args(join string) []string {
	args := []string{"--cluster-key", testClusterKey, "--tag", testClusterTag, "--sync-interval", testSyncInterval}
	if join != "" {
		args = append(args, "-N", join)
	}
	return args
}

// Add starts one more member on the next address, joining the private
// address join (none if empty), and appends it to Nodes. It does not wait
// for the membership to settle.
func (c *Cluster) Add(t testing.TB, join string, extra ...string) *Node {
	t.Helper()
	args := append(append(c.Args(join), c.opts.Args...), extra...)
	ip := c.NextIP()
	n := StartNode(t, NodeOpts{S3: c.Origin.S3Server, Bucket: c.Origin.Bucket, IP: ip, Netns: c.net.host(t, ip), Args: args})
	c.Nodes = append(c.Nodes, n)
	return n
}

// member is one entry of GET /api/v1/nodes.
type member struct {
	ID    string `json:"id"`
	Addr  string `json:"addr"`
	State string `json:"state"`
	Self  bool   `json:"self"`
}

// members reads GET /api/v1/nodes.
func (n *Node) members() ([]member, error) {
	r, err := n.do(http.MethodGet, "/api/v1/nodes", nil)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/nodes on %s: %s", n.PublicAddr, r)
	}
	var ms []member
	if err := json.Unmarshal(r.Body, &ms); err != nil {
		return nil, fmt.Errorf("GET /api/v1/nodes on %s: %v in %s", n.PublicAddr, err, r.Body)
	}
	return ms, nil
}

// Members is members that fails the test on an error.
func (n *Node) Members(t testing.TB) []member {
	t.Helper()
	ms, err := n.members()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// stateOf returns the state in which ms lists the member id, or "" if it
// does not list it.
func stateOf(ms []member, id string) string {
	for _, m := range ms {
		if m.ID == id {
			return m.State
		}
	}
	return ""
}

// alive returns the IDs of the alive members, sorted.
func alive(ms []member) []string {
	var ids []string
	for _, m := range ms {
		if m.State == "alive" {
			ids = append(ids, m.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// WaitMembers waits until every node lists exactly want alive members,
// itself among them; it fails the test after membersTimeout.
func WaitMembers(t testing.TB, nodes []*Node, want int) time.Duration {
	t.Helper()
	return waitMembersWithin(t, nodes, want, membersTimeout)
}

func waitMembersWithin(t testing.TB, nodes []*Node, want int, within time.Duration) time.Duration {
	t.Helper()
	return eventually(t, within, fmt.Sprintf("%d alive members on each of %d nodes", want, len(nodes)), func() error {
		for _, n := range nodes {
			ms, err := n.members()
			if err != nil {
				return err
			}
			for _, m := range ms {
				if !slices.Contains([]string{"alive", "suspect", "dead", "left"}, m.State) {
					return fmt.Errorf("node %s lists a member in state %q: %+v", n.PrivateAddr, m.State, ms)
				}
			}
			if got := alive(ms); len(got) != want {
				return fmt.Errorf("node %s lists %d alive: %+v", n.PrivateAddr, len(got), ms)
			}
			if !slices.ContainsFunc(ms, func(m member) bool { return m.Self && m.State == "alive" && m.Addr == n.PrivateAddr }) {
				return fmt.Errorf("node %s does not list itself alive at its private address: %+v", n.PrivateAddr, ms)
			}
		}
		return nil
	})
}

// eventually calls check every pollInterval until it returns nil, and
// returns how long that took; past within it fails the test with check's
// last error.
func eventually(t testing.TB, within time.Duration, what string, check func() error) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v: %v", what, within, err)
		}
		<-tick.C
	}
}

// holdFor calls check every pollInterval for d and fails the test at the
// first error: a condition that must stay true.
func holdFor(t testing.TB, d time.Duration, what string, check func() error) {
	t.Helper()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
		if err := check(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// afterMilli returns once the wall clock's millisecond is past done's. An
// operation started then gets a greater hybrid-logical-clock reading on any
// node than one that completed at done: the clock's physical part is the
// wall clock in milliseconds, which all nodes of the test share.
func afterMilli(done time.Time) {
	for ms := done.UnixMilli(); time.Now().UnixMilli() <= ms; {
		time.Sleep(time.Until(time.UnixMilli(ms + 1)))
	}
}

// version is a record's version as /api/v1/meta shows it.
type version struct {
	HLC  uint64 `json:"hlc"`
	Node string `json:"node"`
}

func (v version) String() string { return fmt.Sprintf("%016x-%s", v.HLC, v.Node) }

// less orders versions as the cluster does: HLC, then node ID.
func (v version) less(w version) bool {
	if v.HLC != w.HLC {
		return v.HLC < w.HLC
	}
	return v.Node < w.Node
}

// recordView is what a node says of one id in /api/v1/meta: 200 with the
// record, 404 + X-Meta-Deleted with a tombstone, or 404 for an unknown id.
type recordView struct {
	Status      int
	Deleted     bool    // X-Meta-Deleted: true
	IsDeleted   bool    `json:"is_deleted"`
	IsSymlink   bool    `json:"is_symlink"`
	Consistency int     `json:"consistency"`
	ETag        string  `json:"etag"`
	Size        int64   `json:"file_size"`
	Version     version `json:"version"`
}

func (r recordView) String() string {
	switch {
	case r.Status == http.StatusNotFound && !r.Deleted:
		return "unknown"
	case r.Deleted:
		return fmt.Sprintf("deleted at %s", r.Version)
	}
	return fmt.Sprintf("live level %d etag %s at %s (symlink %v)", r.Consistency, r.ETag, r.Version, r.IsSymlink)
}

// record reads GET /api/v1/meta/<id>.
func (n *Node) record(id string) (recordView, error) {
	r, err := n.do(http.MethodGet, "/api/v1/meta/"+id, nil)
	if err != nil {
		return recordView{}, err
	}
	v := recordView{Status: r.Status, Deleted: r.Header.Get("X-Meta-Deleted") == "true"}
	switch {
	case r.Status == http.StatusOK, r.Status == http.StatusNotFound && v.Deleted:
		if err := json.Unmarshal(r.Body, &v); err != nil {
			return v, fmt.Errorf("meta %s on %s: %v in %s", id, n.PublicAddr, err, r.Body)
		}
		if v.IsDeleted != v.Deleted {
			return v, fmt.Errorf("meta %s on %s: %s with is_deleted %v", id, n.PublicAddr, r, v.IsDeleted)
		}
	case r.Status != http.StatusNotFound:
		return v, fmt.Errorf("meta %s on %s: %s", id, n.PublicAddr, r)
	}
	return v, nil
}

// Record is record that fails the test on an error.
func (n *Node) Record(t testing.TB, id string) recordView {
	t.Helper()
	v, err := n.record(id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// expect is the state an id must converge to on every node.
type expect struct {
	Known   bool // false: no node has a record of the id
	Deleted bool
	Level   int
	SHA     string  // the body's SHA-256, when live
	ETag    string  // the body's quoted MD5, when live
	Version version // the exact version, when not zero
}

func (e expect) String() string {
	switch {
	case !e.Known:
		return "unknown"
	case e.Deleted:
		return "deleted"
	}
	return fmt.Sprintf("live level %d etag %s", e.Level, e.ETag)
}

// liveExpect is the expectation for body written at level.
func liveExpect(body []byte, level int) expect {
	m := md5.Sum(body)
	return expect{Known: true, Level: level, SHA: sum(body), ETag: `"` + hex.EncodeToString(m[:]) + `"`}
}

// matches reports how v differs from e, or nil.
func (e expect) matches(v recordView) error {
	switch {
	case !e.Known:
		if v.Status != http.StatusNotFound || v.Deleted {
			return fmt.Errorf("is %s, want unknown", v)
		}
		return nil
	case e.Deleted:
		if !v.Deleted {
			return fmt.Errorf("is %s, want deleted", v)
		}
	case v.Status != http.StatusOK || v.ETag != e.ETag || v.Consistency != e.Level:
		return fmt.Errorf("is %s, want %s", v, e)
	}
	if e.Version != (version{}) && v.Version != e.Version {
		return fmt.Errorf("is %s, want version %s", v, e.Version)
	}
	return nil
}

// converged checks that every node's record of every id matches want and
// that all nodes hold the same version; it returns up to 10 differences.
func converged(nodes []*Node, want map[string]expect) error {
	var errs []error
	for id, e := range want {
		var first recordView
		for i, n := range nodes {
			v, err := n.record(id)
			if err == nil {
				err = e.matches(v)
			}
			if err == nil && i > 0 && v.Version != first.Version {
				err = fmt.Errorf("version %s, node %s has %s", v.Version, nodes[0].PrivateAddr, first.Version)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s on node %s: %w", id, n.PrivateAddr, err))
				break
			}
			if i == 0 {
				first = v
			}
		}
		if len(errs) == 10 {
			break
		}
	}
	return errors.Join(errs...)
}

// objectRead is one GET of an object: status, headers and the body's hash.
type objectRead struct {
	Status int
	Header http.Header
	SHA    string
	Size   int64
}

func (r objectRead) String() string {
	return fmt.Sprintf("%d, %d bytes sha256 %.12s, X-Meta-Symlink %q, X-Meta-Fetched %q, X-Meta-Deleted %q",
		r.Status, r.Size, r.SHA, r.Header.Get("X-Meta-Symlink"), r.Header.Get("X-Meta-Fetched"), r.Header.Get("X-Meta-Deleted"))
}

// read GETs id and hashes the body as it streams.
func (n *Node) read(id string, hdr ...string) (objectRead, error) {
	req, err := http.NewRequest(http.MethodGet, n.URL("/api/v1/get/"+id), nil)
	if err != nil {
		return objectRead{}, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := n.Client.Do(req)
	if err != nil {
		return objectRead{}, err
	}
	defer func() { _ = resp.Body.Close() }() // read-only body, fully read below
	h := sha256.New()
	size, err := io.Copy(h, resp.Body)
	r := objectRead{Status: resp.StatusCode, Header: resp.Header, SHA: hex.EncodeToString(h.Sum(nil)), Size: size}
	if err != nil {
		return r, fmt.Errorf("GET %s on %s: read body after %d bytes: %w", id, n.PublicAddr, size, err)
	}
	return r, nil
}

// checkRead checks one GET of id against e: 200 with the body for a live
// object, 404 with X-Meta-Deleted for a deleted one. local requires the
// body to be served from the node's own disk (no X-Meta-Symlink, no
// X-Meta-Fetched).
func (n *Node) checkRead(id string, e expect, local bool) error {
	r, err := n.read(id)
	if err != nil {
		return err
	}
	switch {
	case !e.Known:
		if r.Status != http.StatusNotFound || r.Header.Get("X-Meta-Deleted") != "" {
			return fmt.Errorf("GET %s on %s: %s, want 404 unknown", id, n.PrivateAddr, r)
		}
	case e.Deleted:
		if r.Status != http.StatusNotFound || r.Header.Get("X-Meta-Deleted") != "true" {
			return fmt.Errorf("GET %s on %s: %s, want 404 with X-Meta-Deleted: true", id, n.PrivateAddr, r)
		}
	case r.Status != http.StatusOK || r.SHA != e.SHA:
		return fmt.Errorf("GET %s on %s: %s, want 200 with sha256 %.12s", id, n.PrivateAddr, r, e.SHA)
	case local && (r.Header.Get("X-Meta-Symlink") != "" || r.Header.Get("X-Meta-Fetched") != ""):
		return fmt.Errorf("GET %s on %s: %s, want it served from the node's disk", id, n.PrivateAddr, r)
	}
	return nil
}

// readsConverged checks a GET of every id on every node against want; on
// the nodes in local, level-2 objects must be served from their own disk.
// It returns up to 10 differences.
func readsConverged(nodes []*Node, want map[string]expect, local ...*Node) error {
	var errs []error
	for _, n := range nodes {
		for id, e := range want {
			l := e.Known && !e.Deleted && e.Level == 2 && slices.Contains(local, n)
			if l {
				// The record says whether the body is on disk; check it first
				// so that a GET does not warm anything.
				v, err := n.record(id)
				if err != nil {
					errs = append(errs, err)
				} else if v.IsSymlink {
					errs = append(errs, fmt.Errorf("meta %s on %s: is_symlink true for a level-2 object", id, n.PrivateAddr))
				}
			}
			if err := n.checkRead(id, e, l); err != nil {
				errs = append(errs, err)
			}
			if len(errs) >= 10 {
				return errors.Join(errs...)
			}
		}
	}
	return errors.Join(errs...)
}
