package integration

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// s3EventBody is an AWS S3 event notification of one record, as S3 sends
// it (sequencer and eTag included).
func s3EventBody(t testing.TB, name, bucket, key, sequencer string, body []byte, at time.Time) []byte {
	t.Helper()
	obj := map[string]any{"key": key, "sequencer": sequencer}
	if body != nil {
		sum := md5.Sum(body)
		obj["eTag"], obj["size"] = hex.EncodeToString(sum[:]), len(body)
	}
	b, err := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": name,
		"eventTime": at.UTC().Format("2006-01-02T15:04:05.000Z"),
		"s3":        map[string]any{"bucket": map[string]any{"name": bucket}, "object": obj},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// postEvents posts an event body to n's events endpoint and decodes the
// answer's counts.
func postEvents(t testing.TB, n *Node, body []byte) (int, map[string]int) {
	t.Helper()
	r := n.Do(t, http.MethodPost, "/api/v1/events?token="+eventsToken, body, "Content-Type", "application/json")
	var got map[string]int
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatalf("events answer %q: %v", r.Body, err)
		}
	}
	return r.Status, got
}

// TestEventReplayed posts S3 event notifications to a node, then posts
// each again, bare and wrapped as an SNS retry: the first delivery
// invalidates, a delivery that comes again is answered 200 with its record
// counted as replayed, asks nothing of the origin, and changes nothing on
// the node: the record keeps its version, the body its bytes.
func TestEventReplayed(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t, "--events-token", eventsToken)
	id := newID()
	v1, v2 := randomBytes(21, 20<<10), randomBytes(22, 21<<10)
	o.putOrigin(t, id, v1)
	n.MustGet(t, id, v1, "X-Meta-Fetch", "1")

	// Changed in the origin behind the node, then told by an event.
	o.putOrigin(t, id, v2)
	created := s3EventBody(t, "ObjectCreated:Put", o.Bucket, key(id), "0062E9A6D1F2A3B401", v2, time.Now())
	if status, got := postEvents(t, n, created); status != http.StatusOK || got["invalidated"] != 1 || got["replayed"] != 0 {
		t.Fatalf("first delivery of the created event: %d %v, want 200 with 1 invalidated, 0 replayed", status, got)
	}
	n.MustGet(t, id, v2)
	before := n.Record(t, id)

	sns, err := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "3b5c7a1e-retry", "Message": string(created)})
	if err != nil {
		t.Fatal(err)
	}
	o.ResetCounts()
	for _, tc := range []struct {
		name string
		body []byte
	}{{"posted again", created}, {"as an SNS retry", sns}} {
		status, got := postEvents(t, n, tc.body)
		if status != http.StatusOK || got["replayed"] != 1 || got["invalidated"] != 0 {
			t.Errorf("created event %s: %d %v, want 200 with 1 replayed, 0 invalidated", tc.name, status, got)
		}
	}
	if heads, gets := o.Count(http.MethodHead, o.Bucket), o.Count(http.MethodGet, o.Bucket); heads+gets != 0 {
		t.Errorf("the replays asked the origin %d HEADs and %d GETs, want none", heads, gets)
	}
	if after := n.Record(t, id); after.Version != before.Version || after.Deleted {
		t.Errorf("meta %s after the replays: %s, want the version %s of the first delivery", id, after, before.Version)
	}
	if r := n.MustGet(t, id, v2); r.Header.Get("X-Meta-Fetched") == "true" {
		t.Errorf("GET %s after the replays fetched from the origin again: the replay invalidated it", id)
	}
	if n.logCount(func(line string) bool { return strings.Contains(line, "already applied") }) == 0 {
		t.Error("the node did not log the replayed delivery")
	}

	// Removed in the origin: the event makes a tombstone; its replay after
	// the object was written again through the node removes nothing.
	o.deleteOrigin(t, key(id))
	removed := s3EventBody(t, "ObjectRemoved:Delete", o.Bucket, key(id), "0062E9A6D1F2A3B402", nil, time.Now())
	if status, got := postEvents(t, n, removed); status != http.StatusOK || got["invalidated"] != 1 {
		t.Fatalf("first delivery of the removed event: %d %v, want 200 with 1 invalidated", status, got)
	}
	wantStatus(t, n.Get(t, id), http.StatusNotFound, "GET after the removed event")
	v3 := randomBytes(23, 22<<10)
	n.MustPut(t, id, 1, v3)
	written := n.Record(t, id)
	if status, got := postEvents(t, n, removed); status != http.StatusOK || got["replayed"] != 1 || got["invalidated"] != 0 {
		t.Errorf("removed event posted again: %d %v, want 200 with 1 replayed, 0 invalidated", status, got)
	}
	n.MustGet(t, id, v3)
	if after := n.Record(t, id); after.Version != written.Version || after.Deleted {
		t.Errorf("meta %s after the removed event's replay: %s, want the write %s", id, after, written.Version)
	}
	if got, _ := o.Get(t, id); sum(got) != sum(v3) {
		t.Errorf("origin holds sha256 %.12s for %s after the replay, want the write's %.12s", sum(got), id, sum(v3))
	}
}
