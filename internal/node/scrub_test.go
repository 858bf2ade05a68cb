package node

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"sphere.software/objstore"
)

// scrubFakeClock never sleeps: After moves its time on by d at once.
type scrubFakeClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *scrubFakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *scrubFakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// fakeRecords is a journal of records in key order.
type fakeRecords []objstore.Record

func (f fakeRecords) Range(ctx context.Context, fn func(objstore.Record) bool) error {
	for _, rec := range f {
		if !fn(rec) {
			break
		}
	}
	return nil
}

// fakeBodies notes each Scrub with the clock's time; bodies named in bad
// fail their checksum and those in missing are not held.
type fakeBodies struct {
	clock   *scrubFakeClock
	bad     map[string]bool
	missing map[string]bool
	calls   []scrubCall
}

type scrubCall struct {
	id   string
	at   time.Time
	size int64
}

func (f *fakeBodies) Scrub(key objstore.Key, v objstore.Version, sum objstore.Checksum) error {
	if f.missing[key.ID] {
		return fmt.Errorf("fake: %w", objstore.ErrNotFound)
	}
	f.calls = append(f.calls, scrubCall{id: key.ID, at: f.clock.Now(), size: sum.Size})
	if f.bad[key.ID] {
		return fmt.Errorf("fake: %w", objstore.ErrChecksum)
	}
	return nil
}

func scrubRecords(sizes ...int64) fakeRecords {
	var recs fakeRecords
	for i, size := range sizes {
		v := objstore.Version{HLC: uint64(i + 1), Node: "n"}
		recs = append(recs, objstore.Record{Key: objstore.Key{Bucket: "b", ID: fmt.Sprintf("k%03d", i)},
			Sum: objstore.Checksum{Size: size}, Version: v, BodyVersion: v})
	}
	return recs
}

// TestScrubPassHoldsItsRate checks the bound by counting bytes against the
// fake clock: before each read, the bytes read so far are at most what the
// rate allows in the time gone plus the burst, and the whole pass takes at
// least its bytes' worth of time less the burst.
func TestScrubPassHoldsItsRate(t *testing.T) {
	const rate = 1 << 20
	clock := &scrubFakeClock{now: time.Unix(1_000_000, 0)}
	sizes := []int64{300 << 10, 5 << 20, 0, 64 << 10, 2 << 20, 1, 700 << 10, 3 << 20}
	recs := scrubRecords(sizes...)
	bodies := &fakeBodies{clock: clock}
	s := newScrubber(ScrubConfig{Period: time.Hour, Rate: rate}, scrubDeps{records: recs, bodies: bodies,
		report: func(objstore.Key, objstore.Version, error) {}}, slog.New(slog.DiscardHandler), clock)
	start := clock.Now()
	st := scrubState{InPass: true, PassStarted: start}
	if err := s.pass(context.Background(), &st); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, c := range bodies.calls {
		allowed := int64(float64(rate) * (c.at.Sub(start) + scrubBurst).Seconds())
		if total > allowed {
			t.Errorf("before %s at +%s: %d bytes read, rate allows %d", c.id, c.at.Sub(start), total, allowed)
		}
		total += c.size
	}
	took := clock.Now().Sub(start)
	if least := time.Duration(float64(total-rate*int64(scrubBurst/time.Second)) / rate * float64(time.Second)); took < least {
		t.Errorf("pass of %d bytes took %s, want at least %s", total, took, least)
	}
	if len(bodies.calls) != len(sizes) || s.bytes.Load() != total || s.bodies.Load() != int64(len(sizes)) {
		t.Errorf("calls=%d bytes=%d bodies=%d, want %d, %d, %d", len(bodies.calls), s.bytes.Load(), s.bodies.Load(), len(sizes), total, len(sizes))
	}
}

// TestScrubReportsAndResumes: a pass reports the bodies that fail, skips
// those not held and tombstones, and one resumed from a saved place
// starts after it.
func TestScrubReportsAndResumes(t *testing.T) {
	clock := &scrubFakeClock{now: time.Unix(1_000_000, 0)}
	recs := scrubRecords(10, 20, 30, 40, 50)
	recs[3].Deleted = true
	bodies := &fakeBodies{clock: clock, bad: map[string]bool{"k001": true, "k004": true}, missing: map[string]bool{"k002": true}}
	var reported []string
	s := newScrubber(ScrubConfig{Period: time.Hour, Rate: 1 << 20, StateFile: filepath.Join(t.TempDir(), "scrub.state")},
		scrubDeps{records: recs, bodies: bodies, report: func(k objstore.Key, _ objstore.Version, _ error) { reported = append(reported, k.ID) }},
		slog.New(slog.DiscardHandler), clock)
	st := scrubState{InPass: true, Bucket: "b", ID: "k000"} // k000 done before a restart
	if err := s.pass(context.Background(), &st); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(reported) != "[k001 k004]" {
		t.Errorf("reported %v, want [k001 k004]", reported)
	}
	var ids []string
	for _, c := range bodies.calls {
		ids = append(ids, c.id)
	}
	if fmt.Sprint(ids) != "[k001 k002 k004]" && fmt.Sprint(ids) != "[k001 k004]" {
		t.Errorf("scrubbed %v, want k001 and k004 only", ids)
	}
	if st.ID != "k004" {
		t.Errorf("place after the pass = %q, want k004", st.ID)
	}
	s.save(st)
	if got := s.load(); got != st {
		t.Errorf("state round trip = %+v, want %+v", got, st)
	}
}

func TestScrubConfigRefusesNegatives(t *testing.T) {
	for _, c := range []ScrubConfig{{Period: -time.Second}, {Period: time.Hour, Rate: -1}} {
		if err := (Config{NodeID: "n", Scrub: c}).Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// TestScrubberFindsRotAndRepairs runs the real scrubber on a node: a
// level-1 body rotted after it was verified is found, counted and read
// back from the origin.
func TestScrubberFindsRotAndRepairs(t *testing.T) {
	tn := newTestNode(t, 0)
	key, body := newKey(), randomBody(100_000)
	rec := put(t, tn, key, body, objstore.LevelS3)
	corruptFile(t, bodyPath(tn, key, rec.BodyVersion))
	s := newScrubber(ScrubConfig{Period: time.Hour}, scrubDeps{records: tn.j, bodies: tn.blobs, report: tn.ReportCorrupt},
		slog.New(slog.DiscardHandler), &scrubFakeClock{now: time.Unix(1_000_000, 0)})
	st := scrubState{InPass: true}
	if err := s.pass(context.Background(), &st); err != nil {
		t.Fatal(err)
	}
	j, _ := tn.repairs.add(bodyRef{key: key, v: rec.BodyVersion}, nil, nil)
	<-j.done
	if err := tn.blobs.Scrub(key, rec.BodyVersion, rec.Sum); err != nil {
		t.Fatalf("body after the scrub's repair: %v", err)
	}
	if found, repaired := tn.stats.corruptFound.Load(), tn.stats.repaired.Load(); found != 1 || repaired < 1 {
		t.Fatalf("found=%d repaired=%d", found, repaired)
	}
}

// TestScrubberOwnedByNode: a node configured to scrub runs a pass at
// start, shows it in Stats, stops the scrubber on Close and keeps the
// finished pass in its state file, so the next start waits a period.
func TestScrubberOwnedByNode(t *testing.T) {
	dir := t.TempDir()
	tn := openTestNode(t, dir, newMemRemote(), 0)
	key, body := newKey(), randomBody(5000)
	put(t, tn, key, body, objstore.LevelLocal)
	tn.close()

	state := filepath.Join(dir, "scrub.state")
	n := openNode(t, dir, newMemRemote(), nodeSetup{cfg: Config{Scrub: ScrubConfig{Period: time.Hour, StateFile: state}}})
	eventually(t, "a full scrub pass", func() bool {
		st, err := n.Stats(context.Background())
		return err == nil && st.Integrity.Scrub != nil && st.Integrity.Scrub.LastFullPass != nil
	})
	st, _ := n.Stats(context.Background())
	if st.Integrity.Scrub.Bodies != 1 || st.Integrity.Scrub.Bytes != int64(len(body)) {
		t.Errorf("scrub figures = %+v, want 1 body of %d bytes", st.Integrity.Scrub, len(body))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatalf("Close with the scrubber asleep: %v", err)
	}
	s := newScrubber(ScrubConfig{Period: time.Hour, StateFile: state}, scrubDeps{}, slog.New(slog.DiscardHandler), wallClock{})
	if saved := s.load(); saved.InPass || saved.LastFullPass.IsZero() {
		t.Fatalf("saved state = %+v, want a finished pass", saved)
	}
}
