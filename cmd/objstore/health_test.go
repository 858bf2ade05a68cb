package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/health"
)

func TestClusterCheck(t *testing.T) {
	alive := func(id string) objstore.Member { return objstore.Member{ID: id, State: "alive"} }
	for _, tc := range []struct {
		name         string
		joined, solo bool
		members      []objstore.Member
		want         health.Status
		detail       string
	}{
		{"solo", true, true, []objstore.Member{alive("A")}, health.OK, "no -N given: started alone; 1 of 1 members alive"},
		{"joined", true, false, []objstore.Member{alive("A"), alive("B")}, health.OK, "joined; 2 of 2 members alive"},
		{"not joined", false, false, []objstore.Member{alive("A")}, health.Fail, "not joined: no member given with -N reached yet; 1 of 1 members alive"},
		{"a member down", true, false, []objstore.Member{alive("A"), {ID: "B", State: "dead"}}, health.Degraded, "1 of 2 members alive; down: B dead"},
		{"a member left", true, false, []objstore.Member{alive("A"), {ID: "B", State: "left"}}, health.OK, "joined; 1 of 2 members alive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := clusterCheck(tc.joined, tc.solo, tc.members)
			if got.Status != tc.want || got.Detail != tc.detail {
				t.Fatalf("got %s %q, want %s %q", got.Status, got.Detail, tc.want, tc.detail)
			}
		})
	}
}

// fakeOrigin is an origin with a health state; rechecks counts Recheck.
type fakeOrigin struct {
	origin
	h        objstore.OriginHealth
	rechecks int
}

func (f *fakeOrigin) String() string                                  { return "s3 bucket b at http://127.0.0.1:1" }
func (f *fakeOrigin) Health() objstore.OriginHealth                   { return f.h }
func (f *fakeOrigin) Recheck(maxAge time.Duration)                    { f.rechecks++ }
func (f *fakeOrigin) Counts(context.Context) (objstore.Counts, error) { return objstore.Counts{}, nil }

func TestOriginCheck(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	ok := objstore.OriginHealth{State: objstore.OriginOK, Since: now.Add(-time.Hour), Checked: now.Add(-3 * time.Second)}
	down := objstore.OriginHealth{State: objstore.OriginUnreachable, Error: "no answer from http://127.0.0.1:1: check --s3-endpoint",
		Since: now.Add(-time.Minute), Checked: now.Add(-2 * time.Second)}
	for _, tc := range []struct {
		name    string
		h       objstore.OriginHealth
		without bool
		want    health.Status
		detail  []string
	}{
		{"ok", ok, false, health.OK, []string{"s3 bucket b", "checked 3s ago"}},
		{"down", down, false, health.Fail, []string{"unreachable since 2026-12-03T11:59:00Z", "checked 2s ago", "check --s3-endpoint"}},
		{"down, ready without it", down, true, health.Degraded, []string{"unreachable since", "--ready-without-origin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &fakeOrigin{h: tc.h}
			got := originCheck(o, tc.without, now)
			if got.Status != tc.want || o.rechecks != 1 {
				t.Fatalf("got %s %q with %d rechecks, want %s and one recheck", got.Status, got.Detail, o.rechecks, tc.want)
			}
			for _, d := range tc.detail {
				if !strings.Contains(got.Detail, d) {
					t.Errorf("detail %q lacks %q", got.Detail, d)
				}
			}
		})
	}
}

type brokenJournal struct{}

func (brokenJournal) Counts(context.Context) (objstore.Counts, error) {
	return objstore.Counts{}, errors.New("journal: counts: database not open")
}

func TestJournalCheck(t *testing.T) {
	if got := journalCheck(t.Context(), &fakeOrigin{}); got.Status != health.OK || got.Detail != "open, 0 objects" {
		t.Errorf("open journal: %+v", got)
	}
	if got := journalCheck(t.Context(), brokenJournal{}); got.Status != health.Fail || !strings.Contains(got.Detail, "not open") {
		t.Errorf("closed journal: %+v", got)
	}
}
