package client

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// maxRetryAfter bounds how long a node's Retry-After makes a call wait.
const maxRetryAfter = 30 * time.Second

// pause waits before try: not at all while a round over the endpoints
// tries nodes not yet tried (a node that failed says nothing of the
// others), then, at the start of each later round, a backoff whose cap
// doubles per round, drawn uniformly between half the minimum and the cap
// so that clients that failed together do not retry together, or the
// node's Retry-After when longer.
func (c *Client) pause(ctx context.Context, try int, retryAfter time.Duration) error {
	n := len(c.endpoints)
	if try%n != 0 {
		return ctx.Err()
	}
	d := max(c.backoff(try/n), min(retryAfter, maxRetryAfter))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is the jittered wait before retry round r (1, 2, …).
func (c *Client) backoff(r int) time.Duration {
	ceil := c.cfg.MinBackoff
	for i := 1; i < r && ceil < c.cfg.MaxBackoff; i++ {
		ceil *= 2
	}
	ceil = min(ceil, c.cfg.MaxBackoff)
	return c.cfg.MinBackoff/2 + rand.N(ceil-c.cfg.MinBackoff/2+1)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
