package httpapi

import (
	"strings"
	"sync"
	"time"
)

const (
	// eventReplayWindow is how long an applied event is remembered: SNS
	// retries an HTTP delivery it got no 2xx for over at most an hour (its
	// longest delivery policy), and S3 itself may deliver an event twice.
	eventReplayWindow = time.Hour
	// eventReplayMax bounds the events remembered, oldest forgotten first.
	// A forgotten event that comes again is applied again, which is safe:
	// every event is checked against the origin (node.Node.OriginChanged).
	eventReplayMax = 1 << 16
)

// appliedEvents remembers the events applied within the window, so that a
// delivery sent again (an SNS retry, S3's at-least-once delivery, a
// captured request posted twice) is answered as already applied without a
// second request to the origin and a second invalidation. It is safe for
// concurrent use.
type appliedEvents struct {
	window time.Duration
	max    int
	now    func() time.Time

	mu    sync.Mutex // guards seen, order and head
	seen  map[string]time.Time
	order []appliedEvent // oldest first, from head on
	head  int
}

type appliedEvent struct {
	id string
	at time.Time
}

func newAppliedEvents(window time.Duration, max int, now func() time.Time) *appliedEvents {
	return &appliedEvents{window: window, max: max, now: now, seen: map[string]time.Time{}}
}

// eventID is what tells one S3 event from another: the bucket, the key and
// the event's name with S3's sequencer (unique per key and change) when it
// is sent, else with the object's ETag and version and the event's time.
// A record with neither a sequencer nor a time has no identity ("") and is
// applied every time: two removals of one key would look alike.
func eventID(rec eventRecord) string {
	o := rec.S3.Object
	if o.Sequencer == "" && rec.EventTime == "" {
		return ""
	}
	name := strings.TrimPrefix(rec.EventName, "s3:")
	return strings.Join([]string{rec.S3.Bucket.Name, o.Key, name, o.Sequencer, o.ETag, o.VersionID, rec.EventTime}, "\x00")
}

// applied reports whether the event id was applied within the window. An
// empty id never was.
func (a *appliedEvents) applied(id string) bool {
	if id == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	at, ok := a.seen[id]
	return ok && a.now().Sub(at) < a.window
}

// add remembers that the event id was applied now, and forgets what is
// out of the window or over the bound.
func (a *appliedEvents) add(id string) {
	if id == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	a.seen[id] = now
	a.order = append(a.order, appliedEvent{id: id, at: now})
	for a.head < len(a.order) && (len(a.order)-a.head > a.max || now.Sub(a.order[a.head].at) >= a.window) {
		old := a.order[a.head]
		if a.seen[old.id].Equal(old.at) { // not remembered again since
			delete(a.seen, old.id)
		}
		a.order[a.head] = appliedEvent{}
		a.head++
	}
	// Move the live part down once the dropped part is the larger, so
	// that the slice neither grows without bound nor is copied per event.
	if a.head > len(a.order)/2 {
		a.order = append(a.order[:0], a.order[a.head:]...)
		a.head = 0
	}
}
