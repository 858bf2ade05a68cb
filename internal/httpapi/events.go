package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"sphere.software/objstore"
)

// OriginEvents is what the events endpoint needs of a node.
type OriginEvents interface {
	// OriginChanged invalidates key on every node after news that it
	// changed in the origin; see node.Node.OriginChanged.
	OriginChanged(ctx context.Context, key objstore.Key, at time.Time) (bool, error)
}

// maxEventBody bounds an event notification's body.
const maxEventBody = 1 << 20

// Events serves POST /api/v1/events: S3 event notifications in AWS's event
// JSON, sent directly (S3-compatible servers' webhooks) or wrapped in an
// SNS envelope. Every request must carry the token, as
// "Authorization: Bearer TOKEN" or "?token=TOKEN" (webhooks can only set a
// URL); with no token configured every request is refused.
//
// A delivery that comes again within an hour (an SNS retry after a lost
// answer, S3's at-least-once delivery, a captured request posted twice) is
// answered 200 with its records counted as "replayed" and not applied
// again: no request to the origin, no invalidation. An error would make
// SNS and webhook senders retry a delivery that succeeded. See
// appliedEvents.
type Events struct {
	token   string
	store   OriginEvents
	log     *slog.Logger
	applied *appliedEvents
}

// EventsPath is where the events handler is mounted on the public port.
const EventsPath = "/api/v1/events"

// NewEvents returns the events handler; an empty token refuses everything.
func NewEvents(token string, store OriginEvents, log *slog.Logger) *Events {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Events{token: token, store: store, log: log, applied: newAppliedEvents(eventReplayWindow, eventReplayMax, time.Now)}
}

// eventRecord is the part of one AWS S3 event record that matters here.
type eventRecord struct {
	EventName string `json:"eventName"`
	EventTime string `json:"eventTime"`
	S3        struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			ETag      string `json:"eTag"`
			VersionID string `json:"versionId"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

// envelope is an SNS HTTP message, or (Records set) a bare S3 event, or
// (Event set) S3's test event.
type envelope struct {
	Type         string        `json:"Type"`
	Message      string        `json:"Message"`
	SubscribeURL string        `json:"SubscribeURL"`
	Records      []eventRecord `json:"Records"`
	Event        string        `json:"Event"`
}

func (h *Events) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "events: POST only")
		return
	}
	if status, msg := h.authorize(r); status != 0 {
		httpError(w, status, msg)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxEventBody+1))
	if err != nil || len(data) > maxEventBody {
		httpError(w, http.StatusBadRequest, "events: body unreadable or over 1 MiB")
		return
	}
	recs, err := h.parse(data)
	if err != nil {
		httpError(w, http.StatusBadRequest, "events: "+err.Error())
		return
	}
	changed, replayed, err := h.apply(r.Context(), recs)
	if err != nil {
		// The origin could not be asked: 503 makes the sender retry.
		h.log.WarnContext(r.Context(), "event not applied", "err", err)
		httpError(w, http.StatusServiceUnavailable, "events: "+err.Error())
		return
	}
	if replayed > 0 {
		h.log.InfoContext(r.Context(), "event delivered again; already applied, not applied again", "records", len(recs), "replayed", replayed)
	}
	writeJSON(w, http.StatusOK, map[string]int{"records": len(recs), "invalidated": changed, "replayed": replayed})
}

// authorize returns 0 for a request with the right token, else the status
// and message to refuse it with.
func (h *Events) authorize(r *http.Request) (int, string) {
	if h.token == "" {
		return http.StatusForbidden, "events: disabled; start the node with --events-token"
	}
	got := r.URL.Query().Get("token")
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		got = strings.TrimPrefix(auth, "Bearer ")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(h.token)) != 1 {
		return http.StatusUnauthorized, "events: missing or wrong token"
	}
	return 0, ""
}

// parse returns the object events in a request body, all checked before
// any is applied: a malformed body changes nothing.
func (h *Events) parse(data []byte) ([]eventRecord, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("malformed event JSON: %w", err)
	}
	switch {
	case env.Type == "SubscriptionConfirmation":
		// Confirming would make the node fetch a URL from the request;
		// the operator confirms by hand.
		h.log.Warn("SNS subscription to confirm: open this URL to confirm it", "subscribe_url", env.SubscribeURL)
		return nil, nil
	case env.Type == "Notification":
		msg := env.Message
		env = envelope{}
		if err := json.Unmarshal([]byte(msg), &env); err != nil {
			return nil, fmt.Errorf("malformed event JSON in the SNS message: %w", err)
		}
	case env.Type != "":
		return nil, fmt.Errorf("unsupported SNS message type %q", env.Type)
	}
	if env.Event == "s3:TestEvent" {
		return nil, nil
	}
	if env.Records == nil {
		return nil, errors.New(`no "Records": not an S3 event notification`)
	}
	for i, rec := range env.Records {
		if rec.S3.Bucket.Name == "" || rec.S3.Object.Key == "" || rec.EventName == "" {
			return nil, fmt.Errorf("record %d: eventName, s3.bucket.name and s3.object.key are required", i)
		}
		if _, err := eventTime(rec.EventTime); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
	}
	return env.Records, nil
}

// apply invalidates the keys of the object events and returns how many
// records changed and how many were applied before (within the replay
// window) and skipped. Events of other kinds (tagging, ACLs) are ignored.
// An event is remembered as applied only once every key it names was
// checked, so a delivery that failed half-way is applied in full when it
// is retried.
func (h *Events) apply(ctx context.Context, recs []eventRecord) (changed, replayed int, err error) {
	for _, rec := range recs {
		name := strings.TrimPrefix(rec.EventName, "s3:")
		if !strings.HasPrefix(name, "ObjectCreated:") && !strings.HasPrefix(name, "ObjectRemoved:") {
			continue
		}
		id := eventID(rec)
		if h.applied.applied(id) {
			replayed++
			continue
		}
		at, _ := eventTime(rec.EventTime) // checked in parse
		for _, key := range eventKeys(rec.S3.Object.Key) {
			ok, err := h.store.OriginChanged(ctx, objstore.Key{Bucket: rec.S3.Bucket.Name, ID: key}, at)
			if err != nil {
				return changed, replayed, err
			}
			if ok {
				changed++
				h.log.InfoContext(ctx, "invalidated by an origin event", "event", name, "bucket", rec.S3.Bucket.Name, "key", key)
			}
		}
		h.applied.add(id)
	}
	return changed, replayed, nil
}

// eventKeys returns the keys an event's key may name: AWS URL-encodes it
// (a space as "+"), some S3-compatible servers send it as it is. Both are
// invalidated when they differ; each is checked against the origin, so the
// one that names nothing changes nothing.
func eventKeys(raw string) []string {
	dec, err := url.QueryUnescape(raw)
	if err != nil || dec == raw || dec == "" {
		return []string{raw}
	}
	return []string{dec, raw}
}

// eventTime parses an event's time; an absent one is now.
func eventTime(s string) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("eventTime %q: want RFC 3339", s)
	}
	return t, nil
}
