package s3api

import (
	"fmt"
	"testing"
	"time"
)

// TestCompletedUploadsBounds checks that remembered completions are found
// for their own bucket and key only, and are forgotten past completedKeep
// and beyond completedMax entries.
func TestCompletedUploadsBounds(t *testing.T) {
	var c completedUploads
	t0 := time.Unix(1_700_000_000, 0)
	doc := completeResult{Bucket: "b", Key: "k", ETag: `"x"`}
	c.add("id", "b", "k", doc, t0)
	if got, ok := c.get("id", "b", "k", t0.Add(time.Minute)); !ok || got != doc {
		t.Fatalf("get after a minute: %+v %v, want %+v", got, ok, doc)
	}
	if _, ok := c.get("id", "b", "other", t0); ok {
		t.Fatal("found for another key")
	}
	if _, ok := c.get("id", "b", "k", t0.Add(completedKeep+time.Second)); ok {
		t.Fatal("found past completedKeep")
	}
	for i := range completedMax + 1 {
		c.add(fmt.Sprint(i), "b", "k", doc, t0)
	}
	if len(c.byID) != completedMax || len(c.order) != completedMax {
		t.Fatalf("%d entries (%d in order), want %d", len(c.byID), len(c.order), completedMax)
	}
	if _, ok := c.get("0", "b", "k", t0); ok {
		t.Fatal("the oldest entry is kept beyond completedMax")
	}
	if _, ok := c.get(fmt.Sprint(completedMax), "b", "k", t0); !ok {
		t.Fatal("the newest entry is missing")
	}
}
