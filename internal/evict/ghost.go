package evict

// ghost is a FIFO of the hashes of keys recently evicted from the small
// FIFO (or, with SecondMiss, declined once), bounded by the bytes their
// objects had and by a count. A hash collision only makes one key look
// seen; it never loses data. The hash is FNV-1a so a snapshot reads back
// the same on the next run.
type ghost struct {
	// ring[head:] are the slots, oldest first. A slot's position counts
	// from the first slot ever added: ring[i] is position base+i.
	ring       []ghostSlot
	head       int
	base       uint64
	live       map[uint64]uint64 // hash → position of its slot
	bytes      int64             // sizes of the slots still in live
	maxBytes   int64
	minEntries int // the count bound never drops below this
}

// ghostSlot is a ghost in the ring; a forgotten one stays until it reaches
// the head, with its size zeroed.
type ghostSlot struct {
	hash uint64
	size int64
}

func newGhost(maxBytes int64) *ghost {
	return &ghost{live: make(map[uint64]uint64), maxBytes: maxBytes, minEntries: 1024}
}

// keyHash is 64-bit FNV-1a, inline so a hash costs no allocation.
func keyHash(key string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return h
}

// add records h as the newest ghost, dropping the oldest ones past the
// bounds: the bytes, and a count of maxCount (so tiny objects cannot grow
// it without limit).
func (g *ghost) add(h uint64, size int64, maxCount int) {
	g.take(h)
	pos := g.base + uint64(len(g.ring))
	g.ring = append(g.ring, ghostSlot{hash: h, size: size})
	g.live[h] = pos
	g.bytes += size
	g.trim(max(maxCount, g.minEntries))
}

// take reports whether h is a ghost and forgets it if so.
func (g *ghost) take(h uint64) bool {
	pos, ok := g.live[h]
	if !ok {
		return false
	}
	delete(g.live, h)
	s := &g.ring[pos-g.base]
	g.bytes -= s.size
	s.size = 0
	return true
}

// trim drops the oldest ghosts until both bounds hold.
func (g *ghost) trim(maxCount int) {
	for g.head < len(g.ring) && (g.bytes > g.maxBytes || len(g.live) > maxCount) {
		s := g.ring[g.head]
		pos := g.base + uint64(g.head)
		g.head++
		if p, ok := g.live[s.hash]; ok && p == pos {
			delete(g.live, s.hash)
			g.bytes -= s.size
		}
	}
	g.compact()
}

// compact rebuilds the ring from its live slots once forgotten ones
// outnumber them, so the ring's memory stays proportional to the ghosts
// it holds. It costs O(ring) once per that many forgettings: O(1) amortised.
func (g *ghost) compact() {
	dead := len(g.ring) - g.head - len(g.live)
	if dead <= len(g.live)+1024 && g.head <= len(g.ring)/2+1024 {
		return
	}
	n := 0
	for i := g.head; i < len(g.ring); i++ {
		s := g.ring[i]
		if p, ok := g.live[s.hash]; ok && p == g.base+uint64(i) {
			g.ring[n] = s
			n++
		}
	}
	g.base += uint64(len(g.ring)) // positions only grow, so none is reused
	g.ring = g.ring[:n]
	g.head = 0
	for i, s := range g.ring {
		g.live[s.hash] = g.base + uint64(i)
	}
}

// each calls fn for every live ghost, oldest first.
func (g *ghost) each(fn func(h uint64, size int64)) {
	for i := g.head; i < len(g.ring); i++ {
		s := g.ring[i]
		if p, ok := g.live[s.hash]; ok && p == g.base+uint64(i) {
			fn(s.hash, s.size)
		}
	}
}

func (g *ghost) len() int { return len(g.live) }
