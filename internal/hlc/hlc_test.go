package hlc

import (
	"testing"
	"time"
)

func TestNowIsStrictlyIncreasingWhenWallClockStalls(t *testing.T) {
	fixed := time.UnixMilli(1_700_000_000_000)
	c := New(func() time.Time { return fixed })
	prev := c.Now()
	for range 1000 {
		ts := c.Now()
		if ts <= prev {
			t.Fatalf("Now went from %d to %d", prev, ts)
		}
		prev = ts
	}
	if got := Physical(prev); got != fixed.UnixMilli() {
		t.Fatalf("physical part drifted: %d, want %d", got, fixed.UnixMilli())
	}
}

func TestNowFollowsWallClockAndSurvivesStepBack(t *testing.T) {
	wall := time.UnixMilli(1_700_000_000_000)
	c := New(func() time.Time { return wall })
	a := c.Now()
	wall = wall.Add(-time.Hour) // NTP steps the clock back
	b := c.Now()
	if b <= a {
		t.Fatalf("clock went backwards after wall step back: %d then %d", a, b)
	}
	wall = wall.Add(2 * time.Hour)
	d := c.Now()
	if Physical(d) != wall.UnixMilli() {
		t.Fatalf("clock did not follow wall time forward: %d", Physical(d))
	}
}

func TestObserveOrdersAfterRemote(t *testing.T) {
	wall := time.UnixMilli(1_700_000_000_000)
	c := New(func() time.Time { return wall })
	remote := FromTime(wall.Add(time.Minute)) + 7 // a peer whose clock runs ahead
	c.Observe(remote)
	if ts := c.Now(); ts <= remote {
		t.Fatalf("Now after Observe(%d) = %d, want greater", remote, ts)
	}
	c.Observe(1) // an old timestamp changes nothing
	if ts := c.Now(); ts <= remote+1 {
		t.Fatalf("Observe of an old timestamp moved the clock back: %d", ts)
	}
}
