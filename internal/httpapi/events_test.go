package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
