package main

import (
	"sphere.software/objstore/bench/trace"

	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sphere.software/objstore/internal/evict"
)

func TestParseTrace(t *testing.T) {
	reqs, err := trace.Parse(strings.NewReader("1 a 10\n\n2 b 20\n3 a 10\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 3 || reqs[1] != (trace.Request{ID: "b", Size: 20}) {
		t.Fatalf("parsed %v", reqs)
	}
	for _, bad := range []string{"", "1 a\n", "1 a -5\n", "1 a x\n"} {
		if _, err := trace.Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("trace.Parse(%q) = nil error", bad)
		}
	}
}

// TestReadTraceXZ reads a trace through the xz command, as the default
// trace is read.
func TestReadTraceXZ(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "t.trace")
	if err := os.WriteFile(plain, []byte("1 a 10\n2 b 20\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("xz", plain).CombinedOutput(); err != nil {
		t.Fatalf("xz: %v: %s", err, out)
	}
	reqs, err := trace.Read(context.Background(), plain+".xz")
	if err != nil || len(reqs) != 2 {
		t.Fatalf("readTrace = %v, %v", reqs, err)
	}
	if _, err := trace.Read(context.Background(), filepath.Join(dir, "missing.xz")); err == nil {
		t.Fatal("readTrace of a missing file: nil error")
	}
}

func TestFindTraceLooksAbove(t *testing.T) {
	root := t.TempDir()
	want := filepath.Join(root, "shared", "traces", "x.trace")
	if err := os.MkdirAll(filepath.Dir(want), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "wt", "repo")
	if err := os.MkdirAll(deep, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	got, err := trace.Find("../shared/traces/x.trace")
	if err != nil || got != want {
		t.Fatalf("findTrace = %q, %v; want %q", got, err, want)
	}
	if _, err := trace.Find("../shared/traces/none.trace"); err == nil {
		t.Fatal("findTrace of a missing trace: nil error")
	}
}

// TestReplay: a hot object read again and again stays cached by S3-FIFO
// through a scan of 200 times the capacity (ten scan objects after each
// trace request); LRU loses it.
func TestReplay(t *testing.T) {
	var reqs []trace.Request
	for range 300 {
		reqs = append(reqs, trace.Request{ID: "hot", Size: 10}, trace.Request{ID: "other", Size: 10})
	}
	hot := hotSet(reqs, 100)
	if len(hot) != 2 {
		t.Fatalf("hot set %v", hot)
	}
	for _, tt := range []struct {
		opts      evict.Options
		minDuring float64
		maxDuring float64
	}{
		{evict.Options{}, 0.99, 1},
		{evict.Options{Mode: evict.ModeLRU}, 0, 0.5},
	} {
		c, err := newCache(100, tt.opts, false)
		if err != nil {
			t.Fatal(err)
		}
		r := replay(c, reqs, hot, scan{bytes: 20_000, seed: 1})
		if r.requests != 600 || r.misses < 2 || r.scanReqs < 100 {
			t.Fatalf("%v: %+v", tt.opts.Mode, r)
		}
		if d := r.hotHit(1); d < tt.minDuring || d > tt.maxDuring {
			t.Errorf("%v: hot hit ratio during the scan %.3f, want in [%.2f, %.2f]", tt.opts.Mode, d, tt.minDuring, tt.maxDuring)
		}
	}
}
