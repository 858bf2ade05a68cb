package integration

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hlGeneratedID is the shape of an ID the node makes.
var hlGeneratedID = regexp.MustCompile(`^[0-9A-F]{16}$`)

// hlLogRecords parses the node's JSON log lines (--log-format json); the
// harness's own lines are not JSON and are skipped.
func hlLogRecords(t testing.TB, n *Node) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(n.log.String(), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// hlWaitRecord waits for a JSON log record with msg and request_id id, and
// returns it.
func hlWaitRecord(t testing.TB, n *Node, msg, id string) map[string]any {
	t.Helper()
	var found map[string]any
	eventually(t, 10*time.Second, fmt.Sprintf("a log record %q with request_id %s", msg, id), func() error {
		for _, rec := range hlLogRecords(t, n) {
			if rec["msg"] == msg && rec["request_id"] == id {
				found = rec
				return nil
			}
		}
		return fmt.Errorf("none yet")
	})
	return found
}

// TestHealthlogsRequestIDs: every answer names its request's ID (the
// client's when sane, else a new one), the fast path's included; a failing
// request's ID is in the error answer (header, and the S3 error body), in
// its access log line and in the node's own log line about it, all in JSON.
func TestHealthlogsRequestIDs(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t, "--s3-endpoint", o.Direct, "--access-log", "on", "--log-format", "json")

	r := n.Do(t, http.MethodGet, "/api/v1/ping", nil)
	if id := r.Header.Get("X-Request-Id"); !hlGeneratedID.MatchString(id) {
		t.Fatalf("ping's X-Request-Id %q: want 16 hex digits", id)
	}
	if got := n.Do(t, http.MethodGet, "/api/v1/ping", nil, "X-Request-Id", "it-ping-1").Header.Get("X-Request-Id"); got != "it-ping-1" {
		t.Fatalf("X-Request-Id %q, want the client's it-ping-1", got)
	}
	if got := n.Do(t, http.MethodGet, "/api/v1/ping", nil, "X-Request-Id", "two words").Header.Get("X-Request-Id"); !hlGeneratedID.MatchString(got) {
		t.Fatalf("X-Request-Id %q for an insane one sent: want a new one", got)
	}

	// A hot GET, answered by the fast path, has an ID too, and logs it.
	id := n.NewID(t)
	body := bytes.Repeat([]byte("hot "), 256)
	n.MustPut(t, id, 0, body)
	n.MustGet(t, id, body)
	hot := n.MustGet(t, id, body, "X-Request-Id", "it-hot-1")
	if got := hot.Header.Get("X-Request-Id"); got != "it-hot-1" {
		t.Fatalf("hot GET's X-Request-Id %q, want it-hot-1", got)
	}
	if rec := hlWaitRecord(t, n, "access", "it-hot-1"); rec["fast"] != true || rec["status"] != float64(200) {
		t.Fatalf("hot GET's access record %v: want fast=true, status 200", rec)
	}

	o.StopProcess(t)

	// Native API: a read through to an origin that is down.
	for _, sent := range []string{"it-native-fail-1", ""} {
		var hdr []string
		if sent != "" {
			hdr = []string{"X-Request-Id", sent}
		}
		r := n.Get(t, n.NewID(t), append(hdr, "X-Meta-Fetch", "1")...)
		got := r.Header.Get("X-Request-Id")
		if r.Status < 500 || (sent != "" && got != sent) || (sent == "" && !hlGeneratedID.MatchString(got)) {
			t.Fatalf("GET with fetch, origin down, sent id %q: %s with X-Request-Id %q; want a 5xx with the id", sent, r, got)
		}
		access := hlWaitRecord(t, n, "access", got)
		if access["status"] != float64(r.Status) || access["api"] != "native" {
			t.Fatalf("access record %v: want api native, status %d", access, r.Status)
		}
		if rec := hlWaitRecord(t, n, "request failed", got); rec["level"] != "ERROR" || rec["part"] != "api" {
			t.Fatalf("node's record of the failure %v: want level ERROR, part api", rec)
		}
	}

	// S3 API: a GetObject the node must read from the origin.
	s3r := n.s3Do(t.Context(), t, http.MethodGet, "/"+o.Bucket+"/not-cached", nil, "X-Request-Id", "it-s3-fail-1")
	if s3r.Status < 500 || s3r.Header.Get("X-Request-Id") != "it-s3-fail-1" || s3r.Header.Get("X-Amz-Request-Id") != "it-s3-fail-1" {
		t.Fatalf("S3 GetObject, origin down: %s, X-Request-Id %q, x-amz-request-id %q; want a 5xx naming it-s3-fail-1",
			s3r, s3r.Header.Get("X-Request-Id"), s3r.Header.Get("X-Amz-Request-Id"))
	}
	var s3err struct {
		Code      string
		RequestID string `xml:"RequestId"`
	}
	if err := xml.Unmarshal(s3r.Body, &s3err); err != nil || s3err.RequestID != "it-s3-fail-1" {
		t.Fatalf("S3 error body %q (%v): want <RequestId>it-s3-fail-1</RequestId>", s3r.Body, err)
	}
	if rec := hlWaitRecord(t, n, "access", "it-s3-fail-1"); rec["api"] != "s3" || rec["status"] != float64(s3r.Status) {
		t.Fatalf("S3 access record %v: want api s3, status %d", rec, s3r.Status)
	}
	if rec := hlWaitRecord(t, n, "s3 request failed", "it-s3-fail-1"); rec["code"] != s3err.Code {
		t.Fatalf("node's record of the S3 failure %v: want code %s", rec, s3err.Code)
	}
}

// TestHealthlogsRequestIDCrossesNodes: a read on a node that does not
// hold the body streams it from the node that does, and that node's access
// line for the private request names the client request's ID.
func TestHealthlogsRequestIDCrossesNodes(t *testing.T) {
	c := StartCluster(t, 2, ClusterOpts{Args: []string{"--access-log", "on", "--log-format", "json"}})
	holder, reader := c.Nodes[0], c.Nodes[1]
	id := holder.NewID(t)
	body := bytes.Repeat([]byte("held by one node "), 64)
	holder.MustPut(t, id, 0, body) // level 0: the body stays on holder

	attempt := 0
	var reqID string
	eventually(t, 30*time.Second, "the reader knows the record and reads the body from the holder", func() error {
		attempt++
		reqID = fmt.Sprintf("it-peer-%d", attempt)
		r := reader.Get(t, id, "X-Request-Id", reqID)
		if r.Status != http.StatusOK || !bytes.Equal(r.Body, body) {
			return fmt.Errorf("GET on the reader: %s", r)
		}
		if r.Header.Get("X-Request-Id") != reqID || r.Header.Get("X-Meta-Symlink") != "true" {
			return fmt.Errorf("GET on the reader: X-Request-Id %q, X-Meta-Symlink %q; want %s and a peer's body",
				r.Header.Get("X-Request-Id"), r.Header.Get("X-Meta-Symlink"), reqID)
		}
		return nil
	})
	if rec := hlWaitRecord(t, reader, "access", reqID); rec["api"] != "native" {
		t.Fatalf("reader's access record %v: want api native", rec)
	}
	if rec := hlWaitRecord(t, holder, "access", reqID); rec["api"] != "private" || rec["status"] != float64(200) {
		t.Fatalf("holder's access record %v: want the private body request, status 200", rec)
	}
}
