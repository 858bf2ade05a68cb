package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// orphanRounds bounds TestOrphansKill9; OBJSTORE_ORPHAN_ROUNDS asks for more.
const orphanRounds = 5

// TestOrphansKill9 kills the node with SIGKILL while 8 writers PUT at level
// 1, restarts it, and checks after each round that every object in the
// origin bucket is known to the node: a GET through it answers 200 with the
// origin's bytes. A PUT cut between its upload and its journal commit must
// not leave an object behind that the node calls 404 (an orphan).
func TestOrphansKill9(t *testing.T) {
	rounds := envInt(t, "OBJSTORE_ORPHAN_ROUNDS", orphanRounds)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d rounds", seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 0x0f0a))
	pool := randomBody(seed, 1<<20)

	o := newOrigin(t)
	n := o.StartNode(t)
	camp := newCampaign(t, "orphans_kill9")
	camp.Set("seed", strconv.FormatUint(seed, 10))
	camp.Set("levels", []int{1})
	for _, f := range []string{"rounds", "acknowledged", "acknowledged_level1", "unacknowledged", "orphans"} {
		camp.Add(f, 0)
	}
	unacked := 0
	for round := range rounds {
		delay := time.Duration(200+rng.IntN(601)) * time.Millisecond
		acked, cut := orphanRound(t, n, rng, pool, delay)
		unacked += cut
		camp.Add("rounds", 1)
		camp.Add("acknowledged", acked)
		camp.Add("acknowledged_level1", acked)
		camp.Add("unacknowledged", cut)
		killed := time.Now()
		n.Restart(t)
		camp.Time("recover", time.Since(killed))
		// The node settles what a crash left in the background after it
		// starts; wait for the origin to agree with it, up to a deadline.
		var orphans []string
		deadline := time.Now().Add(30 * time.Second)
		for {
			orphans = unknownInOrigin(t, o, n)
			if len(orphans) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		camp.Time("settle", time.Since(killed))
		if len(orphans) > 0 {
			camp.Add("orphans", len(orphans))
			t.Fatalf("round %d (killed after %v): %d objects in the origin the node does not serve as they are, first: %s",
				round, delay, len(orphans), orphans[0])
		}
	}
	inOrigin := len(o.Keys(t))
	camp.Set("objects_in_origin", inOrigin)
	t.Logf("%d rounds, %d PUTs cut by the kill, 0 orphans; %d objects in the origin", rounds, unacked, inOrigin)
}

// orphanRound runs 8 level-1 writers against n, kills n after delay and
// returns how many PUTs were acknowledged and how many the kill cut.
func orphanRound(t *testing.T, n *Node, rng *rand.Rand, pool []byte, delay time.Duration) (acked, cut int) {
	t.Helper()
	var (
		killed atomic.Bool
		nCut   atomic.Int64
		nAcked atomic.Int64
		mu     sync.Mutex // guards errs
		errs   []string
		wg     sync.WaitGroup
	)
	for range crashWriters {
		wr := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		wg.Go(func() {
			for !killed.Load() {
				id, size := newID(), wr.IntN(256<<10+1)
				off := wr.IntN(len(pool) - size + 1)
				body := append([]byte(id), pool[off:off+size]...)
				r, err := n.do(http.MethodPost, "/api/v1/put", bytes.NewReader(body), putHeaders(id, 1)...)
				switch {
				case err != nil && killed.Load():
					nCut.Add(1)
					return
				case err != nil:
					mu.Lock()
					errs = append(errs, fmt.Sprintf("PUT %s before the kill: %v", id, err))
					mu.Unlock()
					return
				case r.Status != http.StatusOK:
					mu.Lock()
					errs = append(errs, fmt.Sprintf("PUT %s: %s", id, r))
					mu.Unlock()
				default:
					nAcked.Add(1)
				}
			}
		})
	}
	time.Sleep(delay) // the kill lands at a random point of the load
	killed.Store(true)
	n.Kill()
	wg.Wait()
	for _, e := range errs {
		t.Error(e)
	}
	return int(nAcked.Load()), int(nCut.Load())
}

// unknownInOrigin lists the origin bucket and returns the keys that a GET
// through n does not serve with the origin's bytes.
func unknownInOrigin(t *testing.T, o *origin, n *Node) []string {
	t.Helper()
	var bad []string
	for _, id := range o.Keys(t) {
		want, ok := o.getIfThere(t, id)
		if !ok {
			continue // removed since the listing
		}
		r, err := n.do(http.MethodGet, "/api/v1/get/"+id, nil)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: GET: %v", id, err))
		case r.Status != http.StatusOK:
			bad = append(bad, fmt.Sprintf("%s: GET: %s", id, r))
		case !bytes.Equal(r.Body, want):
			bad = append(bad, fmt.Sprintf("%s: GET: 200 with other bytes than the origin's", id))
		}
	}
	return bad
}

// getIfThere returns the object's body, or false if it is gone.
func (o *origin) getIfThere(t *testing.T, id string) ([]byte, bool) {
	t.Helper()
	if _, ok := o.Head(t, id); !ok {
		return nil, false
	}
	out, err := o.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key(id))})
	var missing *types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("S3 GetObject %s: %v", id, err)
	}
	defer func() { _ = out.Body.Close() }() // read-only body, fully read below
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("S3 GetObject %s: read: %v", id, err)
	}
	return b, true
}
