package integration

import (
	"bytes"
	"net/http"
	"testing"
	"time"
)

// An origin that hangs (SIGSTOP, not killed) fails level-1 writes within
// the deadlines instead of holding them, cached reads go on, and the node
// writes to the origin again by itself once it thaws.
func TestFrozenOrigin(t *testing.T) {
	const bound = 2 * time.Second
	camp := newCampaign(t, "frozen_origin")
	camp.Set("bound_ms", bound.Milliseconds())
	camp.Set("cached_reads_failed", 0)
	o := newOrigin(t)
	n := o.StartNode(t, "--origin-connect-timeout="+bound.String(),
		"--origin-first-byte-timeout="+bound.String(), "--origin-progress-timeout="+bound.String())

	cached := bytes.Repeat([]byte("cached body "), 1<<12)
	cachedID := n.NewID(t)
	n.MustPut(t, cachedID, 1, cached)

	// The small body fits in the socket buffers and waits for the first
	// byte; the large one (one PutObject, under the part size) stalls its
	// upload once the buffers between node and origin are full. What the
	// node takes to receive and store the large body is not the origin's
	// wait: a level-0 PUT measures it first, allowed twice over.
	body := bytes.Repeat([]byte("written while frozen "), 1<<12)
	large := bytes.Repeat([]byte("large "), 48<<20/6)
	start := time.Now()
	n.MustPut(t, n.NewID(t), 0, large)
	within := map[int]time.Duration{len(body): 3 * bound, len(large): 3*bound + 2*time.Since(start)}
	t.Logf("level-0 PUT of %d bytes: %v", len(large), time.Since(start).Round(time.Millisecond))

	o.Freeze(t)
	for _, b := range [][]byte{body, large} {
		start := time.Now()
		r := n.Put(t, n.NewID(t), 1, b)
		took := time.Since(start)
		if r.Status != http.StatusGatewayTimeout && r.Status != http.StatusBadGateway {
			t.Fatalf("level-1 PUT of %d bytes with the origin frozen: status %d (%s), want 504 or 502", len(b), r.Status, r.Body)
		}
		if want := within[len(b)]; took > want {
			t.Fatalf("level-1 PUT of %d bytes with the origin frozen failed after %v, want within %v", len(b), took, want)
		}
		t.Logf("level-1 PUT of %d bytes with the origin frozen: %d after %v: %s", len(b), r.Status, took.Round(time.Millisecond), bytes.TrimSpace(r.Body))
		camp.Time("fail", took)
	}
	if r := n.Get(t, cachedID); r.Status != http.StatusOK || !bytes.Equal(r.Body, cached) {
		camp.Set("cached_reads_failed", 1)
		t.Fatalf("GET %s (cached) with the origin frozen: %s, want 200 with the body", cachedID, r)
	}

	o.Thaw(t)
	thawed := time.Now()
	id := n.NewID(t)
	for {
		r := n.Put(t, id, 1, body)
		if r.Status == http.StatusOK {
			break
		}
		if time.Since(thawed) > 5*bound {
			t.Fatalf("level-1 PUT %v after the thaw: status %d (%s), want 200", time.Since(thawed), r.Status, r.Body)
		}
		time.Sleep(100 * time.Millisecond) // polling for recovery; bounded above
	}
	t.Logf("level-1 PUT succeeded %v after the thaw", time.Since(thawed).Round(time.Millisecond))
	camp.Time("recover", time.Since(thawed))
	n.MustGet(t, id, body)
	if got, _ := o.Get(t, id); !bytes.Equal(got, body) {
		t.Fatalf("origin holds %d bytes for %s after the thaw, want the %d written", len(got), id, len(body))
	}
}
