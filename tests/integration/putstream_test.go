package integration

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// isStreamed reports whether r is a streamed upload: a PUT framed in
// aws-chunked, which the node sends for level-≥1 bodies of 256 KiB or more
// while they arrive.
func isStreamed(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-")
}

// TestStreamedUpload: large level-1 PUTs are uploaded to versitygw while
// they arrive (aws-chunked), and land byte for byte. When the origin
// refuses the framing, as an S3-compatible server without it answers (501
// NotImplemented), the PUT still succeeds: the node uploads the body whole,
// still conditionally, and sends later large bodies whole from the start.
func TestStreamedUpload(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	var streamed, refused atomic.Int64
	o.Refuse(func(r *http.Request) bool {
		if isStreamed(r) {
			streamed.Add(1)
		}
		return false
	})
	first := newID()
	acked := map[string][]byte{first: randomBody(1, 3<<20+17)}
	n.MustPut(t, first, 1, acked[first])
	// A body of at most 1 MiB is held in memory on its way and written to
	// the node's disk at its end (disk.Writer.Hold): its local copy reads
	// back too.
	for i, size := range []int{700_001, 1 << 20} {
		id := newID()
		acked[id] = randomBody(uint64(2+i), size)
		n.MustPut(t, id, 1, acked[id])
		n.MustGet(t, id, acked[id])
	}
	if streamed.Load() != 3 {
		t.Fatalf("three level-1 PUTs of 0.7 to 3 MiB made %d streamed uploads, want 3", streamed.Load())
	}
	if m := outboxMissing(t, o, acked); len(m) > 0 {
		t.Fatalf("the streamed bodies are not in the origin byte for byte: %v", m)
	}

	var plain atomic.Int64 // whole-body PUTs without a condition
	o.Refuse(func(r *http.Request) bool {
		switch {
		case isStreamed(r):
			refused.Add(1)
			return true
		case r.Method == http.MethodPut && r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Match") == "":
			plain.Add(1)
		}
		return false
	})
	for i := range 3 {
		id := newID()
		acked[id] = randomBody(uint64(10+i), 1<<20+int(i))
		n.MustPut(t, id, 1, acked[id])
		n.MustGet(t, id, acked[id])
	}
	if refused.Load() != 1 {
		t.Fatalf("the node tried %d streamed uploads the origin refused, want 1 and then whole bodies", refused.Load())
	}
	if m := outboxMissing(t, o, acked); len(m) > 0 {
		t.Fatalf("bodies missing from the origin after it refused streaming: %v", m)
	}
	// The 501 was for the framing: versitygw does conditional writes, and
	// the whole-body uploads keep them (one winner in the origin).
	if plain.Load() != 0 {
		t.Fatalf("%d whole-body uploads after the refused stream went without a condition", plain.Load())
	}
}
