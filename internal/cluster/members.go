package cluster

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"sphere.software/objstore"
)

// Member states as objstore.Member reports them.
const (
	StateAlive = "alive"
	StateDead  = "dead"
	StateLeft  = "left"
)

// metaLeaving is the memberlist node meta of a node that is closing.
const metaLeaving = "leaving"

// departedTTL is how long a dead or left member stays listed (and a dead
// one is retried, see reconnect) after it went.
const departedTTL = 24 * time.Hour

// members is the membership view, kept from memberlist's events.
//
// It is fed by memberlist.EventDelegate only, not read from
// memberlist.Members(): that returns pointers into memberlist's node table,
// whose State field memberlist changes under a lock we cannot take, so
// reading it races. The events are called with that lock held, so copying
// the node there is safe. Memberlist has no event for "suspect", so a
// member is listed alive until it is declared dead or leaves.
type members struct {
	self      string
	notifying bool // an OnChange goroutine drains pending
	log       *slog.Logger

	arrivals atomic.Uint64 // members that became alive (new or back), for maintain's syncs

	mu      sync.Mutex // guards byID, since, pending
	byID    map[string]objstore.Member
	since   map[string]time.Time // when a dead or left member went
	pending []objstore.Member    // changes not yet given to OnChange, one per member
	kick    chan struct{}        // capacity 1: wakes notify when pending grows
}

var _ memberlist.EventDelegate = (*members)(nil)

// nodeMeta is the memberlist.Delegate that gives this node's meta: empty,
// or metaLeaving once Close has begun.
type nodeMeta struct{ leaving atomic.Bool }

var _ memberlist.Delegate = (*nodeMeta)(nil)

// NodeMeta implements memberlist.Delegate.
func (d *nodeMeta) NodeMeta(limit int) []byte {
	if d.leaving.Load() {
		return []byte(metaLeaving)
	}
	return nil
}

// NotifyMsg implements memberlist.Delegate; we send no user messages.
func (d *nodeMeta) NotifyMsg([]byte) {}

// GetBroadcasts implements memberlist.Delegate; we send no user messages.
func (d *nodeMeta) GetBroadcasts(overhead, limit int) [][]byte { return nil }

// LocalState implements memberlist.Delegate; we push no user state.
func (d *nodeMeta) LocalState(join bool) []byte { return nil }

// MergeRemoteState implements memberlist.Delegate; we push no user state.
func (d *nodeMeta) MergeRemoteState(buf []byte, join bool) {}

func newMembers(self string, notifying bool, log *slog.Logger) *members {
	return &members{
		self:      self,
		notifying: notifying,
		log:       log,
		byID:      make(map[string]objstore.Member),
		since:     make(map[string]time.Time),
		kick:      make(chan struct{}, 1),
	}
}

// NotifyJoin implements memberlist.EventDelegate.
func (ms *members) NotifyJoin(n *memberlist.Node) { ms.set(n, StateAlive) }

// NotifyUpdate implements memberlist.EventDelegate.
func (ms *members) NotifyUpdate(n *memberlist.Node) { ms.set(n, StateAlive) }

// NotifyLeave implements memberlist.EventDelegate: a node that announced
// its leave is "left", one that others declared failed is "dead".
//
// memberlist's Node.State cannot tell them apart: memberlist keeps the state
// in a field of its own (nodeState.State) that shadows Node.State, which
// stays StateAlive for good. So a closing node first gossips the meta
// metaLeaving (see Close), and a member that goes with that meta has left.
func (ms *members) NotifyLeave(n *memberlist.Node) {
	state := StateDead
	if string(n.Meta) == metaLeaving {
		state = StateLeft
	}
	ms.set(n, state)
}

// set records n's new state and queues the change for OnChange. It runs in
// memberlist's goroutines under memberlist's lock, so it only copies and
// never blocks.
func (ms *members) set(n *memberlist.Node, state string) {
	m := objstore.Member{
		ID:    n.Name,
		Addr:  net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port))),
		State: state,
		Self:  n.Name == ms.self,
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	old, known := ms.byID[m.ID]
	if known && old == m {
		return
	}
	if !m.Self {
		ms.logChange(old, m)
		if state == StateAlive && old.State != StateAlive {
			ms.arrivals.Add(1)
		}
	}
	ms.byID[m.ID] = m
	if state == StateAlive {
		delete(ms.since, m.ID)
	} else {
		ms.since[m.ID] = time.Now()
	}
	ms.queueLocked(m)
}

// logChange logs that member m went from old (zero if unknown) to its
// state: every node logs every member that joins, comes back, moves, leaves
// or fails, the node that was joined included.
func (ms *members) logChange(old, m objstore.Member) {
	switch {
	case m.State == StateAlive && old.State == StateAlive:
		ms.log.Info("cluster: member changed address", "id", m.ID, "addr", m.Addr, "was", old.Addr)
	case m.State == StateAlive && old.State == "":
		ms.log.Info("cluster: member joined", "id", m.ID, "addr", m.Addr)
	case m.State == StateAlive:
		ms.log.Info("cluster: member joined", "id", m.ID, "addr", m.Addr, "was", old.State)
	case m.State == StateLeft:
		ms.log.Info("cluster: member left", "id", m.ID, "addr", m.Addr)
	default:
		ms.log.Warn("cluster: member failed: declared dead by the others' probes", "id", m.ID, "addr", m.Addr)
	}
}

// queueLocked adds m to pending, replacing an older change of the same
// member, and wakes notify.
func (ms *members) queueLocked(m objstore.Member) {
	if !ms.notifying {
		return
	}
	i := slices.IndexFunc(ms.pending, func(p objstore.Member) bool { return p.ID == m.ID })
	if i >= 0 {
		ms.pending[i] = m
	} else {
		ms.pending = append(ms.pending, m)
	}
	select {
	case ms.kick <- struct{}{}:
	default: // a wake-up is already due
	}
}

// list returns every known member sorted by ID.
func (ms *members) list() []objstore.Member {
	ms.mu.Lock()
	out := make([]objstore.Member, 0, len(ms.byID))
	for _, m := range ms.byID {
		out = append(out, m)
	}
	ms.mu.Unlock()
	slices.SortFunc(out, func(a, b objstore.Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// get returns the member with the given ID (zero if unknown).
func (ms *members) get(id string) objstore.Member {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.byID[id]
}

// alive counts the members alive, this node included.
func (ms *members) alive() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	n := 0
	for _, m := range ms.byID {
		if m.State == StateAlive {
			n++
		}
	}
	return n
}

// aliveAt reports whether an alive member other than this node has the
// private address addr.
func (ms *members) aliveAt(addr string) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, m := range ms.byID {
		if m.Addr == addr && m.State == StateAlive && !m.Self {
			return true
		}
	}
	return false
}

// randomAlive returns an alive member other than this node, or false if
// there is none.
func (ms *members) randomAlive() (objstore.Member, bool) {
	var others []objstore.Member
	for _, m := range ms.list() {
		if m.State == StateAlive && !m.Self {
			others = append(others, m)
		}
	}
	if len(others) == 0 {
		return objstore.Member{}, false
	}
	return others[rand.IntN(len(others))], true
}

// dead returns the members declared dead (not those that left), for
// reconnect.
func (ms *members) dead() []objstore.Member {
	var out []objstore.Member
	for _, m := range ms.list() {
		if m.State == StateDead {
			out = append(out, m)
		}
	}
	return out
}

// prune forgets the members that went more than departedTTL before now.
func (ms *members) prune(now time.Time) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for id, t := range ms.since {
		if now.Sub(t) > departedTTL {
			delete(ms.since, id)
			delete(ms.byID, id)
		}
	}
}

// notify calls fn with each queued change until ctx is done.
func (ms *members) notify(ctx context.Context, fn func(objstore.Member)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ms.kick:
		}
		ms.mu.Lock()
		batch := ms.pending
		ms.pending = nil
		ms.mu.Unlock()
		for _, m := range batch {
			if ctx.Err() != nil {
				return
			}
			fn(m)
		}
	}
}
