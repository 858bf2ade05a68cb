package durable

// BarrierWaiting is the number of writers waiting for b's next sync.
func BarrierWaiting(b *Barrier) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next == nil {
		return 0
	}
	return b.next.waiting
}
