package peerapi

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"
)

const (
	// maxNonces bounds the nonces a node remembers. Each lives from its
	// request until its signed date is MaxClockSkew old (about 5 minutes
	// with synchronised clocks), so the bound allows about 7,000 private
	// requests a second, sustained, to one node, in about 32 MiB; beyond
	// it requests are refused with 503 rather than the memory growing.
	maxNonces = 1 << 21
	// nonceBucket is the span of signed dates whose nonces share a set:
	// sets are dropped whole once every date they hold is out of the window.
	nonceBucket = 10 * time.Second
)

// replayGuard remembers the nonces of the signed requests it admitted
// while their dates are within MaxClockSkew of now, and refuses a nonce it
// holds. Past that, checkDate refuses the request anyway, so the nonce can
// be forgotten. Nonces are kept by signed date: a replay must carry the
// same date (it is signed), so one set is looked up per request.
type replayGuard struct {
	max int

	mu      sync.Mutex
	buckets map[int64]map[uint64]struct{} // date/nonceBucket → nonces
	n       int                           // nonces in all buckets
	swept   int64                         // the bucket of now at the last sweep
}

func newReplayGuard(max int) *replayGuard {
	return &replayGuard{max: max, buckets: map[int64]map[uint64]struct{}{}}
}

// admit records the nonce of a request Verify accepted (so nonce and date
// are well formed and signed) and fails with ErrReplayed when it was
// already recorded, or ErrNoncesFull when the guard holds max nonces. A
// nonce is kept as its first 64 bits: they are random, so two requests of
// one window share them with odds under 2^-20 even at max nonces.
func (g *replayGuard) admit(nonce, date string, now time.Time) error {
	n, err := parseNonce(nonce)
	if err != nil {
		return err
	}
	ms, err := parseDate(date)
	if err != nil {
		return err
	}
	key := binary.BigEndian.Uint64(n[:8])
	b := ms / nonceBucket.Milliseconds()

	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(now)
	set := g.buckets[b]
	if _, ok := set[key]; ok {
		return fmt.Errorf("%w: %s seen before", ErrReplayed, HeaderNonce)
	}
	if g.n >= g.max {
		return fmt.Errorf("%w (%d)", ErrNoncesFull, g.max)
	}
	if set == nil {
		set = map[uint64]struct{}{}
		g.buckets[b] = set
	}
	set[key] = struct{}{}
	g.n++
	return nil
}

// sweep drops the buckets whose dates are all more than MaxClockSkew
// before now, once per bucket span. The caller holds g.mu.
func (g *replayGuard) sweep(now time.Time) {
	width := nonceBucket.Milliseconds()
	cur := now.UnixMilli() / width
	if cur == g.swept {
		return
	}
	g.swept = cur
	oldest := (now.UnixMilli() - MaxClockSkew.Milliseconds()) / width // buckets before it hold only expired dates
	for b, set := range g.buckets {
		if b < oldest {
			g.n -= len(set)
			delete(g.buckets, b)
		}
	}
}
