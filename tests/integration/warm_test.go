package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore/internal/savings"
	"sphere.software/objstore/internal/warm"
)

// TestWarmPrefixThenReadsHitTheCache warms a prefix of objects written
// straight into versitygw (objstore never saw them): the job lists them
// through the node's merged listing and fetches each once; the GETs that
// follow through the node's S3 API cost the origin no GET, and the stats
// price what they saved at the prices given on the command line.
func TestWarmPrefixThenReadsHitTheCache(t *testing.T) {
	o := newOrigin(t)
	ctx := testCtx(t, 2*time.Minute)
	objects := map[string][]byte{}
	var total int64
	for i, size := range []int{0, 100, 5_000, 300_000, 2 << 20, 3<<20 + 7} {
		k := fmt.Sprintf("warm/%d.bin", i)
		objects[k] = randomBody(uint64(i+1), size)
		total += int64(size)
	}
	objects["cold/outside.bin"] = randomBody(99, 1000)
	for k, body := range objects {
		if _, err := o.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(k), Body: bytes.NewReader(body)}); err != nil {
			t.Fatalf("put %s into the origin: %v", k, err)
		}
	}
	n := o.StartNode(t, "--price-egress-per-gb", "1", "--price-get-per-1000", "1000") // $1 a GB, $1 a GET

	r := n.Do(t, http.MethodPost, "/api/v1/warm", []byte(`{"bucket":"no-such-bucket","prefix":""}`))
	wantStatus(t, r, http.StatusNotFound, "warm-up of a missing bucket")
	r = n.Do(t, http.MethodPost, "/api/v1/warm", []byte(`{"bucket":"`+o.Bucket+`","prefix":"warm/","keys":["warm/0.bin"]}`))
	wantStatus(t, r, http.StatusBadRequest, "warm-up of a prefix and keys")

	p := runWarm(t, n, `{"bucket":"`+o.Bucket+`","prefix":"warm/","concurrency":3}`)
	if p.State != warm.StateDone || p.Listed != 6 || p.Done != 6 || p.Failed != 0 || p.BytesFetched != total {
		t.Fatalf("warm-up ended %+v, want 6 keys done and %d bytes fetched", p, total)
	}

	gets := o.Count(http.MethodGet, o.Bucket)
	c := sdkClient(n.s3Endpoint())
	for round := range 2 {
		for k, body := range objects {
			if k == "cold/outside.bin" {
				continue
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(k)})
			if err != nil {
				t.Fatalf("round %d: GET %s through the node: %v", round, k, err)
			}
			got, err := io.ReadAll(out.Body)
			_ = out.Body.Close() // read-only body, read in full above
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("round %d: GET %s: %d bytes, %v", round, k, len(got), err)
			}
		}
	}
	if after := o.Count(http.MethodGet, o.Bucket); after != gets {
		t.Fatalf("12 GETs of warmed keys made %d origin GETs, want 0", after-gets)
	}

	s := savingsOf(t, n)
	b := s.ByBucket[o.Bucket]
	served := b.Memory.Requests + b.Disk.Requests
	if served != 12 || b.Origin.Requests != 0 || b.Memory.Requests == 0 || b.Warm != (savings.Count{Requests: 6, Bytes: total}) {
		t.Fatalf("savings of %s: %+v, want 12 reads from memory and disk, none from the origin, 6 warm-up fills", o.Bucket, b)
	}
	if b.Avoided != (savings.Count{Requests: 12, Bytes: 2 * total}) {
		t.Fatalf("origin GETs avoided %+v, want 12 and %d bytes", b.Avoided, 2*total)
	}
	// 12 GETs avoided less 6 warm-up fills, at $1 each; 2×total bytes
	// avoided less total fetched, at $1 a GB.
	want := 6 + float64(total)/(1<<30)
	if math.Abs(s.USDSaved-want) > 1e-9 || s.Prices.EgressPerGB != 1 || s.Prices.GetPer1000 != 1000 {
		t.Fatalf("saved $%v at %+v, want $%v", s.USDSaved, s.Prices, want)
	}

	again := runWarm(t, n, `{"bucket":"`+o.Bucket+`","keys":["warm/1.bin","warm/4.bin"]}`)
	if again.State != warm.StateDone || again.Done != 2 || again.Cached != 2 || again.BytesFetched != 0 {
		t.Fatalf("warm-up of cached keys %+v, want both cached and nothing fetched", again)
	}
	if after := o.Count(http.MethodGet, o.Bucket); after != gets {
		t.Fatalf("a warm-up of cached keys made %d origin GETs, want 0", after-gets)
	}
}

// runWarm starts a warm-up job and waits for it to end.
func runWarm(t *testing.T, n *Node, req string) warm.Progress {
	t.Helper()
	r := n.Do(t, http.MethodPost, "/api/v1/warm", []byte(req))
	wantStatus(t, r, http.StatusAccepted, "POST /api/v1/warm")
	var p warm.Progress
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("warm-up answer %s: %v", r.Body, err)
	}
	for p.State == warm.StateRunning {
		r = n.Do(t, http.MethodGet, "/api/v1/warm/"+p.ID+"?wait=30s", nil)
		wantStatus(t, r, http.StatusOK, "GET /api/v1/warm/"+p.ID)
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatalf("warm-up progress %s: %v", r.Body, err)
		}
	}
	return p
}

// savingsOf reads the savings in /api/v1/stats.
func savingsOf(t *testing.T, n *Node) savings.Report {
	t.Helper()
	r := n.Do(t, http.MethodGet, "/api/v1/stats", nil)
	wantStatus(t, r, http.StatusOK, "GET /api/v1/stats")
	var s struct {
		Savings savings.Report `json:"savings"`
	}
	if err := json.Unmarshal(r.Body, &s); err != nil {
		t.Fatalf("stats %s: %v", r.Body, err)
	}
	return s.Savings
}
