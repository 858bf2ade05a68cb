package main

import (
	"fmt"
	"strings"
	"testing"

	"sphere.software/objstore/bench/trace"
)

func testWorkload(n int) *workload {
	reqs := make([]trace.Request, 0, n)
	for i := range n {
		// Ids 0..9 come back again and again; the rest are read once.
		id := fmt.Sprint(i % 10)
		if i%2 == 1 {
			id = fmt.Sprint("once-", i)
		}
		reqs = append(reqs, trace.Request{ID: id, Size: int64(100 + i%7)})
	}
	return newWorkload(reqs, "t/", 0, 4)
}

// TestScanItemsPrefix: a smaller scan is a prefix of a larger one, so that
// setup can create the largest and every run reads objects that exist.
func TestScanItemsPrefix(t *testing.T) {
	w := testWorkload(300)
	big := w.scanItems(5000)
	small := w.scanItems(2000)
	if len(small) == 0 || len(small) >= len(big) {
		t.Fatalf("scan items: %d small, %d big", len(small), len(big))
	}
	for i, it := range small {
		if it != big[i] {
			t.Fatalf("item %d: %v in the small scan, %v in the big one", i, it, big[i])
		}
	}
	if s := sumSizes(small); s > 2000 || s < 2000-106 {
		t.Errorf("small scan holds %d bytes, want at most 2000 and within one object of it", s)
	}
	if w.sizes[big[len(big)-1].key] == 0 {
		t.Errorf("scan sizes not registered")
	}
}

// TestTracePhases: the trace in order, in thirds, with the whole scan in
// the middle one and spread across it rather than bunched at one end.
func TestTracePhases(t *testing.T) {
	w := testWorkload(300)
	scan := w.scanItems(3000)
	ph := w.tracePhases(scan)
	var trace []item
	var scanSeen int
	for p, part := range ph {
		for _, it := range part {
			if strings.HasPrefix(it.key, "scan/") {
				if p != 1 {
					t.Fatalf("scan item %s in third %d", it.key, p)
				}
				scanSeen++
				continue
			}
			trace = append(trace, it)
		}
	}
	if scanSeen != len(scan) {
		t.Errorf("%d scan items mixed in, want %d", scanSeen, len(scan))
	}
	if len(trace) != len(w.reqs) {
		t.Fatalf("%d trace requests, want %d", len(trace), len(w.reqs))
	}
	for i := range trace {
		if trace[i] != w.reqs[i] {
			t.Fatalf("request %d is %v, want %v", i, trace[i], w.reqs[i])
		}
	}
	// The first half of the middle third holds about half of the scan.
	mid := ph[1]
	firstHalf := 0
	for _, it := range mid[:len(mid)/2] {
		if strings.HasPrefix(it.key, "scan/") {
			firstHalf++
		}
	}
	if firstHalf < len(scan)/3 || firstHalf > 2*len(scan)/3 {
		t.Errorf("%d of %d scan items in the first half of the middle third", firstHalf, len(scan))
	}
}

// TestHotSet: keys requested at least -hot times, and only those.
func TestHotSet(t *testing.T) {
	w := testWorkload(300)
	if len(w.hot) != 5 { // ids 0, 2, 4, 6, 8: 30 requests each
		t.Fatalf("hot set %v, want the 5 repeated ids", w.hot)
	}
	for k := range w.hot {
		if strings.Contains(k, "once-") {
			t.Errorf("%s is in the hot set", k)
		}
	}
}
