package evict

// queue names the FIFO (or, in ModeLRU, the one list) an entry belongs to.
type queue uint8

const (
	queueSmall queue = iota
	queueMain
)

// maxFreq is the ceiling of the 2-bit read counter.
const maxFreq = 3

// entry is one tracked object. It is kept small: one is allocated per
// cached body.
type entry struct {
	key        string
	prev, next *entry // links in its list; nil while pinned
	size       int64
	pins       uint32
	freq       uint8
	queue      queue
	tag        uint16 // the caller's label (Entry.Tag); fits the padding, so free
}

// list is an intrusive doubly linked list with a sentinel: the head is
// sentinel.next (newest), the tail sentinel.prev (oldest). bytes is the sum
// of its entries' sizes.
type list struct {
	root  entry
	len   int
	bytes int64
}

func (l *list) init() {
	l.root.next = &l.root
	l.root.prev = &l.root
	l.len, l.bytes = 0, 0
}

// pushHead inserts e as the newest entry.
func (l *list) pushHead(e *entry) {
	e.prev = &l.root
	e.next = l.root.next
	l.root.next.prev = e
	l.root.next = e
	l.len++
	l.bytes += e.size
}

// remove unlinks e, which must be in l.
func (l *list) remove(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
	l.len--
	l.bytes -= e.size
}

// tail returns the oldest entry, or nil.
func (l *list) tail() *entry {
	if l.len == 0 {
		return nil
	}
	return l.root.prev
}

// moveToHead makes e, which is in l, the newest entry.
func (l *list) moveToHead(e *entry) {
	if l.root.next == e {
		return
	}
	l.remove(e)
	l.pushHead(e)
}
