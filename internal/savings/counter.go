package savings

import "sync/atomic"

// The packed word of a Counter: requests in the high 24 bits, bytes in the
// low 40. A word is folded into the wide totals once either half reaches
// half its range, which leaves room for 2^23 requests or 2^39 bytes added
// by racing callers between the add that crossed and the fold.
const (
	byteBits   = 40
	byteMask   = 1<<byteBits - 1
	oneRequest = 1 << byteBits
	// foldBits are the top bit of each half: set means fold now.
	foldBits = 1<<(byteBits-1) | 1<<63
	// packedMax is the largest size added through the packed word; larger
	// bodies go straight to the wide totals (two adds, and rare).
	packedMax = 1 << 30
)

// Counter counts requests and their bytes. Add costs one atomic add for
// bodies up to 1 GiB.
type Counter struct {
	packed   atomic.Uint64
	requests atomic.Int64 // folded from packed, and large bodies
	bytes    atomic.Int64 // folded from packed, and large bodies
}

// Add counts one request of size bytes.
func (c *Counter) Add(size int64) {
	if size < 0 || size > packedMax {
		c.requests.Add(1)
		c.bytes.Add(max(size, 0))
		return
	}
	if v := c.packed.Add(oneRequest | uint64(size)); v&foldBits != 0 {
		c.fold()
	}
}

// fold moves the packed word into the wide totals. Racing folds are safe:
// each moves what it swapped out.
func (c *Counter) fold() {
	v := c.packed.Swap(0)
	c.requests.Add(int64(v >> byteBits))
	c.bytes.Add(int64(v & byteMask))
}

// Load returns the requests and bytes counted. While a fold runs, a load
// may miss what it is moving for that instant.
func (c *Counter) Load() Count {
	v := c.packed.Load()
	return Count{
		Requests: c.requests.Load() + int64(v>>byteBits),
		Bytes:    c.bytes.Load() + int64(v&byteMask),
	}
}

// Count is a Counter's value.
type Count struct {
	Requests int64 `json:"requests"`
	Bytes    int64 `json:"bytes"`
}

func (c Count) plus(o Count) Count {
	return Count{Requests: c.Requests + o.Requests, Bytes: c.Bytes + o.Bytes}
}
