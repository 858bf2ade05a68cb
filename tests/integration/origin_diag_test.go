package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore/internal/objstoretest"
)

// originStats is the origin part of /api/v1/stats.
type originStats struct {
	State string    `json:"state"`
	Error string    `json:"error"`
	Since time.Time `json:"since"`
}

// originState reads the node's origin state from /api/v1/stats.
func (n *Node) originState(t testing.TB) originStats {
	t.Helper()
	resp, err := n.Client.Get(n.URL("/api/v1/stats"))
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only body
	var s struct {
		Origin *originStats `json:"origin"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || s.Origin == nil {
		t.Fatalf("stats: no origin state (%v)", err)
	}
	return *s.Origin
}

// waitLog waits until the node's log holds every one of parts on one line.
func (n *Node) waitLog(t testing.TB, d time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		for line := range strings.SplitSeq(n.log.String(), "\n") {
			if containsAll(line, parts) {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q within %v:\n%s", parts, d, n.tail())
		}
		time.Sleep(50 * time.Millisecond) // polling the log; the wait is bounded by d
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// A misconfigured origin is diagnosed at start, precisely: the node starts,
// logs one line that says what is wrong and what to check, shows the state
// in /api/v1/stats, and a level-1 PUT fails at once with a 502 naming it.
func TestOriginMisconfigured(t *testing.T) {
	o := newOrigin(t)
	tests := []struct {
		name  string
		opts  NodeOpts
		state string
		log   []string // parts of the diagnosis line
	}{
		{"bad secret", NodeOpts{Env: []string{"AWS_SECRET_ACCESS_KEY=not-the-secret"}}, "access_denied",
			[]string{"level=ERROR", "state=access_denied", "code=SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY"}},
		{"missing bucket", NodeOpts{Bucket: "no-such-bucket"}, "no_such_bucket",
			[]string{"level=ERROR", "state=no_such_bucket", "code=NoSuchBucket", "-B/--bucket"}},
		{"no credentials", NodeOpts{Env: []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}}, "no_credentials",
			[]string{"level=ERROR", "state=no_credentials", "AWS_ACCESS_KEY_ID"}},
		{"origin stopped", NodeOpts{Args: []string{"--s3-endpoint", "http://" + objstoretest.FreeAddr(t)}}, "unreachable",
			[]string{"level=WARN", "state=unreachable", "--s3-endpoint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.S3 = o.S3Server
			if opts.Bucket == "" {
				opts.Bucket = o.Bucket
			}
			n := StartNode(t, opts)
			n.waitLog(t, 10*time.Second, tt.log...)
			if s := n.originState(t); s.State != tt.state || s.Error == "" || s.Since.IsZero() {
				t.Errorf("stats origin: %+v, want state %s with an error and a time", s, tt.state)
			}
			start := time.Now()
			resp := n.put(t, "01BRNMMS1DK3CBD4ZZM2TQ8C5B", "1", "body")
			if took := time.Since(start); resp.status != http.StatusBadGateway || !strings.Contains(resp.body, tt.state) || took > 2*time.Second {
				t.Errorf("level-1 PUT: %d %q after %v, want a 502 naming %s at once", resp.status, resp.body, took, tt.state)
			}
			if !strings.Contains(n.log.String(), "objstore node starting") {
				t.Errorf("the node did not start")
			}
		})
	}
}

// The probe keeps trying: once the missing bucket exists, the node logs
// that the origin is OK again and its stats say so.
func TestOriginRecovers(t *testing.T) {
	o := newOrigin(t)
	n := StartNode(t, NodeOpts{S3: o.S3Server, Bucket: "made-later"})
	n.waitLog(t, 10*time.Second, "state=no_such_bucket")
	o.CreateBucket(t, "made-later")
	n.waitLog(t, 15*time.Second, "level=INFO", "origin ok again", "was=no_such_bucket")
	if s := n.originState(t); s.State != "ok" || s.Error != "" {
		t.Errorf("stats origin after the bucket was made: %+v, want ok", s)
	}
	if resp := n.put(t, "01BRNMMS1DK3CBD4ZZM2TQ8C5B", "1", "body"); resp.status != http.StatusOK {
		t.Errorf("level-1 PUT after recovery: %d %s", resp.status, resp.body)
	}
}

// putResult is a native PUT's answer.
type putResult struct {
	status int
	body   string
}

// put writes body under id at level through the native API.
func (n *Node) put(t testing.TB, id, level, body string) putResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, n.URL("/api/v1/put"), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Meta-ID", id)
	req.Header.Set("X-Meta-ConsistencyLevel", level)
	resp, err := n.Client.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", id, err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only body
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("PUT %s: %v", id, err)
	}
	return putResult{resp.StatusCode, string(b)}
}
