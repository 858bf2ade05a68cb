package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sphere.software/objstore"
)

// recordingEvents records the keys it is told changed.
type recordingEvents struct {
	mu   sync.Mutex // guards keys
	keys []objstore.Key
}

func (r *recordingEvents) OriginChanged(ctx context.Context, key objstore.Key, at time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, key)
	return true, nil
}

const s3Event = `{"Records":[{"eventName":"ObjectRemoved:Delete","eventTime":"2024-05-01T10:00:00.123Z",
 "s3":{"bucket":{"name":"b"},"object":{"key":"dir/a+b%C3%A9.txt","eTag":"x","size":3}}},
 {"eventName":"s3:ObjectCreated:Put","eventTime":"2024-05-01T10:00:01Z","s3":{"bucket":{"name":"b"},"object":{"key":"plain"}}},
 {"eventName":"ObjectTagging:Put","s3":{"bucket":{"name":"b"},"object":{"key":"tags-only"}}}]}`

func TestEvents(t *testing.T) {
	sns, _ := json.Marshal(map[string]string{"Type": "Notification", "Message": s3Event})
	confirm := `{"Type":"SubscriptionConfirmation","SubscribeURL":"https://sns.example/confirm"}`
	tests := []struct {
		name, token, url, auth, body string
		status                       int
		keys                         []string
	}{
		{"bearer", "secret", "/api/v1/events", "Bearer secret", s3Event, 200, []string{"dir/a bé.txt", "dir/a+b%C3%A9.txt", "plain"}},
		{"query token", "secret", "/api/v1/events?token=secret", "", s3Event, 200, []string{"dir/a bé.txt", "dir/a+b%C3%A9.txt", "plain"}},
		{"SNS envelope", "secret", "/api/v1/events?token=secret", "", string(sns), 200, []string{"dir/a bé.txt", "dir/a+b%C3%A9.txt", "plain"}},
		{"SNS confirmation is not fetched", "secret", "/api/v1/events?token=secret", "", confirm, 200, nil},
		{"S3 test event", "secret", "/api/v1/events?token=secret", "", `{"Service":"Amazon S3","Event":"s3:TestEvent"}`, 200, nil},
		{"no token configured", "", "/api/v1/events?token=", "", s3Event, 403, nil},
		{"unsigned", "secret", "/api/v1/events", "", s3Event, 401, nil},
		{"wrong token", "secret", "/api/v1/events?token=guess", "", s3Event, 401, nil},
		{"malformed JSON", "secret", "/api/v1/events?token=secret", "", `{"Records":[`, 400, nil},
		{"not an event", "secret", "/api/v1/events?token=secret", "", `{"hello":1}`, 400, nil},
		{"record without key", "secret", "/api/v1/events?token=secret", "", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"}}}]}`, 400, nil},
		{"bad time", "secret", "/api/v1/events?token=secret", "", `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"yesterday","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &recordingEvents{}
			req := httptest.NewRequest(http.MethodPost, tt.url, strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			NewEvents(tt.token, store, nil).ServeHTTP(w, req)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			var got []string
			for _, k := range store.keys {
				if k.Bucket != "b" {
					t.Errorf("bucket %q", k.Bucket)
				}
				got = append(got, k.ID)
			}
			if strings.Join(got, "|") != strings.Join(tt.keys, "|") {
				t.Errorf("invalidated %q, want %q", got, tt.keys)
			}
		})
	}
}

// failingEvents fails OriginChanged for the keys in fail, and records the
// others.
type failingEvents struct {
	recordingEvents
	fail map[string]bool
}

func (f *failingEvents) OriginChanged(ctx context.Context, key objstore.Key, at time.Time) (bool, error) {
	if f.fail[key.ID] {
		return false, errors.New("origin unreachable")
	}
	return f.recordingEvents.OriginChanged(ctx, key, at)
}

// postEvent posts body to h with the token and returns the status and the
// decoded answer.
func postEvent(t *testing.T, h http.Handler, body string) (int, map[string]int) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/events?token=secret", strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var got map[string]int
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("answer %q: %v", w.Body, err)
		}
	}
	return w.Code, got
}

// TestEventsReplayed posts the same delivery again, bare and in an SNS
// envelope (as an SNS retry): it is answered 200 with its records counted
// as replayed and reaches the store once. A record without a time or a
// sequencer has no identity and is applied each time; a delivery that
// failed is applied in full when it comes again.
func TestEventsReplayed(t *testing.T) {
	store := &recordingEvents{}
	h := NewEvents("secret", store, nil)
	sns, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "m-1", "Message": s3Event})
	status, first := postEvent(t, h, s3Event)
	if status != http.StatusOK || first["records"] != 3 || first["replayed"] != 0 {
		t.Fatalf("first delivery: %d %v, want 200 with 3 records, none replayed", status, first)
	}
	applied := len(store.keys)
	for _, body := range []string{s3Event, string(sns)} {
		status, again := postEvent(t, h, body)
		if status != http.StatusOK || again["replayed"] != 2 || again["invalidated"] != 0 {
			t.Errorf("delivered again: %d %v, want 200 with the 2 object events replayed and nothing invalidated", status, again)
		}
	}
	if len(store.keys) != applied {
		t.Errorf("the store was told %d changes after the replays, want the first delivery's %d", len(store.keys), applied)
	}

	// Two removals of one key with nothing to tell them apart: both applied.
	untimed := `{"Records":[{"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"untimed"}}}]}`
	for i := range 2 {
		if status, got := postEvent(t, h, untimed); status != http.StatusOK || got["replayed"] != 0 {
			t.Errorf("untimed removal %d: %d %v, want 200 and applied", i, status, got)
		}
	}
	if len(store.keys) != applied+2 {
		t.Errorf("the store was told %d changes, want %d: an event without identity is applied each time", len(store.keys), applied+2)
	}

	// A delivery that failed (503) is not remembered: its retry applies it.
	flaky := &failingEvents{fail: map[string]bool{"plain": true}}
	h = NewEvents("secret", flaky, nil)
	if status, _ := postEvent(t, h, s3Event); status != http.StatusServiceUnavailable {
		t.Fatalf("delivery with the origin unreachable: %d, want 503", status)
	}
	flaky.fail = nil
	status, retry := postEvent(t, h, s3Event)
	if status != http.StatusOK || retry["replayed"] != 1 || !slices.Contains(flaky.ids(), "plain") {
		t.Errorf("retry after a 503: %d %v, keys %q; want the applied record replayed and \"plain\" applied", status, retry, flaky.ids())
	}
}

func (r *recordingEvents) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, k := range r.keys {
		ids = append(ids, k.ID)
	}
	return ids
}

// TestAppliedEventsWindowAndBound checks that an event is forgotten once
// out of the window or pushed out by newer ones, and remembered until then.
func TestAppliedEventsWindowAndBound(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a := newAppliedEvents(time.Minute, 3, func() time.Time { return now })
	a.add("e1")
	now = now.Add(59 * time.Second)
	if !a.applied("e1") {
		t.Error("e1 forgotten within the window")
	}
	now = now.Add(time.Second)
	if a.applied("e1") {
		t.Error("e1 remembered at the end of the window")
	}
	for _, id := range []string{"e2", "e3", "e4", "e5"} {
		a.add(id)
	}
	if a.applied("e2") || !a.applied("e3") || !a.applied("e5") {
		t.Errorf("with a bound of 3 after e2..e5: e2 %v e3 %v e5 %v, want false true true", a.applied("e2"), a.applied("e3"), a.applied("e5"))
	}
	if len(a.seen) > 3 || len(a.order)-a.head > 3 {
		t.Errorf("%d remembered, %d queued; want at most 3", len(a.seen), len(a.order)-a.head)
	}
	if a.applied("") {
		t.Error("an event without identity counted as applied")
	}
}
