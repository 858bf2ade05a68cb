package evict

import (
	"errors"
	"fmt"
	"sync"
)

// ErrNoRoom is returned by Put when the object does not fit beside the
// pinned bytes, so no eviction can make room for it.
var ErrNoRoom = errors.New("evict: no room beside the pinned bytes")

// Entry is a tracked object, as reported when it is evicted.
type Entry struct {
	Key  string
	Size int64
	// Tag is the label the caller gave the object (AdmitTagged, PutTagged,
	// SetTag; 0 if none), so that it can tell what an eviction was of, a
	// bucket say, without a map of its own. It is kept in the entry's
	// padding and in snapshots, and costs no memory.
	Tag uint16
}

// Policy tracks cached objects and picks which to evict. It is safe for
// concurrent use.
type Policy struct {
	mu          sync.Mutex // guards every field below
	opts        Options
	capacity    int64
	smallTarget int64 // bytes the small FIFO may hold before it is evicted from first
	maxObject   int64 // Admit declines larger objects
	entries     map[string]*entry
	small, main list // ModeLRU uses main only
	pinnedBytes int64
	pinned      int
	ghost       *ghost
}

// Stats is a snapshot of a Policy's counters.
type Stats struct {
	Capacity    int64
	Entries     int   // tracked objects, pinned included
	Bytes       int64 // their sizes
	Pinned      int
	PinnedBytes int64
	SmallBytes  int64
	MainBytes   int64
	Ghosts      int
}

// New returns an empty Policy bounded by capacity bytes.
func New(capacity int64, opts Options) (*Policy, error) {
	if capacity < 0 {
		return nil, fmt.Errorf("evict: negative capacity %d", capacity)
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	p := &Policy{opts: opts.withDefaults(), entries: make(map[string]*entry)}
	p.small.init()
	p.main.init()
	p.ghost = newGhost(0)
	p.setCapacityLocked(capacity)
	return p, nil
}

func (p *Policy) setCapacityLocked(capacity int64) {
	p.capacity = capacity
	p.smallTarget = int64(float64(capacity) * p.opts.SmallFraction)
	p.maxObject = int64(float64(capacity) * p.opts.MaxObjectFraction)
	p.ghost.maxBytes = capacity - p.smallTarget
	p.ghost.trim(max(len(p.entries), p.ghost.minEntries))
}

// Access records a read of key and reports whether it is tracked (a hit).
// In ModeS3FIFO a hit only bumps a counter.
func (p *Policy) Access(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[key]
	if !ok {
		return false
	}
	if p.opts.Mode == ModeLRU {
		if e.pins == 0 {
			p.main.moveToHead(e)
		}
		return true
	}
	if e.freq < maxFreq {
		e.freq++
	}
	return true
}

// Admit offers an object read through after a miss. It reports whether
// the caller should cache it, and the entries the caller must delete to
// make room. It declines objects over the size limit, objects that do not
// fit beside the pinned bytes, and, with SecondMiss, a key's first miss.
// Admitting a tracked key updates its size.
func (p *Policy) Admit(key string, size int64) (evicted []Entry, admitted bool) {
	return p.AdmitTagged(key, size, 0)
}

// AdmitTagged is Admit of an object labelled tag (Entry.Tag). Admitting a
// tracked key also sets its tag.
func (p *Policy) AdmitTagged(key string, size int64, tag uint16) (evicted []Entry, admitted bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.entries[key]; ok {
		if !p.fitsLocked(e, size) {
			return nil, false
		}
		e.tag = tag
		return p.replaceLocked(e, size, 0), true
	}
	if size > p.maxObject || !p.fitsLocked(nil, size) {
		return nil, false
	}
	h := keyHash(key)
	seen := p.ghost.take(h)
	if p.opts.SecondMiss && !seen {
		p.ghost.add(h, size, len(p.entries))
		return nil, false
	}
	q := queueSmall
	if seen || p.opts.Mode == ModeLRU {
		q = queueMain
	}
	return p.insertLocked(&entry{key: key, size: size, queue: q, tag: tag}), true
}

// Put tracks a written object, pinned if pin is set, and returns the
// entries the caller must delete to make room. It applies no admission
// rule; it fails with ErrNoRoom only when the object does not fit beside
// the pinned bytes. Putting a tracked key updates its size and adds the
// pin.
func (p *Policy) Put(key string, size int64, pin bool) ([]Entry, error) {
	return p.PutTagged(key, size, pin, 0)
}

// PutTagged is Put of an object labelled tag (Entry.Tag). Putting a
// tracked key also sets its tag.
func (p *Policy) PutTagged(key string, size int64, pin bool, tag uint16) ([]Entry, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pins uint32
	if pin {
		pins = 1
	}
	e := p.entries[key]
	if !p.fitsLocked(e, size) {
		return nil, fmt.Errorf("put %s (%d bytes, %d pinned of %d): %w", key, size, p.pinnedBytes, p.capacity, ErrNoRoom)
	}
	if e != nil {
		e.tag = tag
		return p.replaceLocked(e, size, pins), nil
	}
	q := queueSmall
	if p.ghost.take(keyHash(key)) || p.opts.Mode == ModeLRU {
		q = queueMain
	}
	return p.insertLocked(&entry{key: key, size: size, queue: q, pins: pins, tag: tag}), nil
}

// SetTag labels tracked key with tag, without counting a read or moving
// it, and reports whether key is tracked.
func (p *Policy) SetTag(key string, tag uint16) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[key]
	if ok {
		e.tag = tag
	}
	return ok
}

// fitsLocked reports whether an object of size fits beside the pinned
// bytes of entries other than e (which may be nil).
func (p *Policy) fitsLocked(e *entry, size int64) bool {
	other := p.pinnedBytes
	if e != nil && e.pins > 0 {
		other -= e.size
	}
	return size >= 0 && other+size <= p.capacity
}

// replaceLocked gives tracked entry e a new size and addPins more pins,
// keeping its FIFO and counter; it becomes the newest of its FIFO.
func (p *Policy) replaceLocked(e *entry, size int64, addPins uint32) []Entry {
	p.detachLocked(e)
	e.size = size
	e.pins += addPins
	return p.insertLocked(e)
}

// insertLocked makes room for e, then tracks it.
func (p *Policy) insertLocked(e *entry) []Entry {
	evicted := p.makeRoomLocked(e.size)
	p.entries[e.key] = e
	if e.pins > 0 {
		p.pinned++
		p.pinnedBytes += e.size
	} else {
		p.listLocked(e.queue).pushHead(e)
	}
	return evicted
}

// detachLocked stops tracking e, without recording a ghost.
func (p *Policy) detachLocked(e *entry) {
	delete(p.entries, e.key)
	if e.pins > 0 {
		p.pinned--
		p.pinnedBytes -= e.size
		return
	}
	p.listLocked(e.queue).remove(e)
}

func (p *Policy) listLocked(q queue) *list {
	if q == queueSmall {
		return &p.small
	}
	return &p.main
}

// public is e as callers see it.
func (e *entry) public() Entry { return Entry{Key: e.key, Size: e.size, Tag: e.tag} }

// usedLocked is the bytes of all tracked entries.
func (p *Policy) usedLocked() int64 {
	return p.small.bytes + p.main.bytes + p.pinnedBytes
}

// makeRoomLocked evicts until need more bytes fit, or nothing unpinned is
// left.
func (p *Policy) makeRoomLocked(need int64) []Entry {
	var evicted []Entry
	for p.usedLocked()+need > p.capacity {
		e := p.evictOneLocked()
		if e == nil {
			break
		}
		evicted = append(evicted, e.public())
	}
	return evicted
}

// evictOneLocked removes and returns the next victim, or nil when every
// entry is pinned.
func (p *Policy) evictOneLocked() *entry {
	if p.opts.Mode == ModeLRU {
		e := p.main.tail()
		if e != nil {
			p.detachLocked(e)
		}
		return e
	}
	for {
		if p.small.len > 0 && (p.small.bytes > p.smallTarget || p.main.len == 0) {
			e := p.small.tail()
			p.small.remove(e)
			p.takeReadsLocked(e)
			if e.freq > 0 { // read again while in the small FIFO: keep it
				e.freq, e.queue = 0, queueMain
				p.main.pushHead(e)
				continue
			}
			delete(p.entries, e.key)
			p.ghost.add(keyHash(e.key), e.size, len(p.entries))
			return e
		}
		e := p.main.tail()
		if e == nil {
			return nil
		}
		p.takeReadsLocked(e)
		if e.freq > 0 {
			e.freq--
			p.main.moveToHead(e)
			continue
		}
		p.detachLocked(e)
		return e
	}
}

// takeReadsLocked adds the reads the caller counted for e (Options.TakeReads)
// to its counter, at the tail where its fate is decided.
func (p *Policy) takeReadsLocked(e *entry) {
	if p.opts.TakeReads == nil {
		return
	}
	if n := p.opts.TakeReads(e.key); n > 0 {
		e.freq = uint8(min(int(e.freq)+n, maxFreq))
	}
}

// Remove stops tracking key (its object was deleted) and reports whether
// it was tracked. Pins on it are dropped.
func (p *Policy) Remove(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[key]
	if ok {
		p.detachLocked(e)
	}
	return ok
}

// Pin protects key from eviction until as many Unpin calls; it reports
// whether key is tracked.
func (p *Policy) Pin(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[key]
	if !ok {
		return false
	}
	if e.pins == 0 {
		p.listLocked(e.queue).remove(e)
		p.pinned++
		p.pinnedBytes += e.size
	}
	e.pins++
	return true
}

// SetPin makes tracked key hold pins exactly when pin is set: it pins an
// unpinned key once and drops every pin of a pinned one. It reports
// whether key is tracked and returns the entries an unpin evicted (after
// Resize or Restore), as Unpin does. For a caller that pins each key at
// most once, it saves a set of its own.
func (p *Policy) SetPin(key string, pin bool) (bool, []Entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[key]
	switch {
	case !ok:
		return false, nil
	case pin && e.pins == 0:
		p.listLocked(e.queue).remove(e)
		p.pinned++
		p.pinnedBytes += e.size
		e.pins = 1
	case !pin && e.pins > 0:
		e.pins = 0
		p.pinned--
		p.pinnedBytes -= e.size
		p.listLocked(e.queue).pushHead(e)
		return true, p.makeRoomLocked(0)
	}
	return true, nil
}

// Unpin drops one pin of key. On the last one the entry becomes the newest
// of its FIFO again, and if the cache is over capacity (after Resize or
// Restore) the entries evicted to bring it back are returned.
func (p *Policy) Unpin(key string) []Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[key]
	if !ok || e.pins == 0 {
		return nil
	}
	e.pins--
	if e.pins > 0 {
		return nil
	}
	p.pinned--
	p.pinnedBytes -= e.size
	p.listLocked(e.queue).pushHead(e)
	return p.makeRoomLocked(0)
}

// Resize sets the capacity and returns the entries evicted to fit it.
// Pinned entries stay even if they alone exceed it.
func (p *Policy) Resize(capacity int64) []Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setCapacityLocked(max(capacity, 0))
	return p.makeRoomLocked(0)
}

// Stats returns the current counters.
func (p *Policy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{
		Capacity:    p.capacity,
		Entries:     len(p.entries),
		Bytes:       p.usedLocked(),
		Pinned:      p.pinned,
		PinnedBytes: p.pinnedBytes,
		SmallBytes:  p.small.bytes,
		MainBytes:   p.main.bytes,
		Ghosts:      p.ghost.len(),
	}
}

// Evict evicts unpinned entries, in the policy's order, until at least
// need bytes are freed or nothing unpinned is left, and returns them: for a
// caller whose disk holds more than the tracked bodies (files being
// written, staged parts) and runs short before the capacity is reached.
func (p *Policy) Evict(need int64) []Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	var evicted []Entry
	for freed := int64(0); freed < need; {
		e := p.evictOneLocked()
		if e == nil {
			break
		}
		freed += e.size
		evicted = append(evicted, e.public())
	}
	return evicted
}

// Has reports whether key is tracked, without counting a read.
func (p *Policy) Has(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.entries[key]
	return ok
}

// Prune stops tracking every entry whose key keep rejects (its object is
// gone, as found after a restart) and returns how many it dropped. It
// visits every entry: O(entries), for start-up only.
func (p *Policy) Prune(keep func(key string) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var drop []*entry
	for k, e := range p.entries {
		if !keep(k) {
			drop = append(drop, e)
		}
	}
	for _, e := range drop {
		p.detachLocked(e)
	}
	return len(drop)
}
