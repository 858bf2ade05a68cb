package node

import (
	"bytes"
	"errors"
	"testing"

	"sphere.software/objstore/internal/savings"
)

func TestBucketTagsRoundTrip(t *testing.T) {
	var a bucketTags
	if a.tag("x") != 1 || a.tag("y") != 2 || a.tag("x") != 1 {
		t.Fatal("tags are not numbered from 1 in order of first use")
	}
	if a.name(2) != "y" || a.name(0) != savings.Other || a.name(9) != savings.Other {
		t.Fatal("name: want y for 2, Other for 0 and for a tag not numbered")
	}
	var buf bytes.Buffer
	a.encode(&buf)
	buf.WriteString("policy")
	var b bucketTags
	rest, err := b.decode(buf.Bytes())
	if err != nil || string(rest) != "policy" {
		t.Fatalf("decode = %q, %v", rest, err)
	}
	if b.name(1) != "x" || b.name(2) != "y" || b.tag("z") != 3 {
		t.Fatal("decoded table numbers the buckets differently")
	}
	// A bare policy snapshot (written before tags) is returned whole.
	var c bucketTags
	if rest, err := c.decode([]byte("objstore-evict\x01...")); err != nil || string(rest) != "objstore-evict\x01..." {
		t.Fatalf("decode of a bare snapshot = %q, %v", rest, err)
	}
	// A table in use is never renumbered.
	if _, err := b.decode(buf.Bytes()); err == nil {
		t.Fatal("decode into a table in use: want an error")
	}
	// Any flipped byte in the table fails its checksum or its parse.
	data := buf.Bytes()
	for i := len(tagsMagic); i < len(data)-len("policy"); i++ {
		bad := bytes.Clone(data)
		bad[i] ^= 0x40
		var d bucketTags
		if _, err := d.decode(bad); !errors.Is(err, errTagsCorrupt) {
			t.Fatalf("byte %d flipped: decode err %v, want errTagsCorrupt", i, err)
		}
	}
}
