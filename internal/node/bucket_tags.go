package node

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sync"

	"sphere.software/objstore/internal/savings"
)

// bucketTags numbers the buckets of the bodies the disk cache tracks, so
// that a policy entry carries its bucket in the two bytes of
// evict.Entry.Tag, which live in the entry's padding: an eviction is
// counted under its bucket without a map from body names to buckets
// (a name is a hash and a version) and without a byte more per object.
// Tag 0 is "bucket unknown": an entry restored from a snapshot written
// before tags (until the start-up sweep tags it) or a bucket past the
// 65,535th. Its evictions count under savings.Other. Tags are kept in the
// policy's snapshot, so the table is written beside it (encode, decode).
type bucketTags struct {
	mu    sync.RWMutex
	tags  map[string]uint16
	names []string // by tag; names[0] is unused
}

// tag returns bucket's tag, numbering it on first use.
func (t *bucketTags) tag(bucket string) uint16 {
	t.mu.RLock()
	tag, ok := t.tags[bucket]
	t.mu.RUnlock()
	if ok {
		return tag
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addLocked(bucket)
}

func (t *bucketTags) addLocked(bucket string) uint16 {
	if tag, ok := t.tags[bucket]; ok {
		return tag
	}
	if t.tags == nil {
		t.tags, t.names = make(map[string]uint16), []string{""}
	}
	if len(t.names) > math.MaxUint16 {
		return 0
	}
	tag := uint16(len(t.names))
	t.tags[bucket] = tag
	t.names = append(t.names, bucket)
	return tag
}

// name returns the bucket of tag, or savings.Other for tag 0 or one not
// numbered.
func (t *bucketTags) name(tag uint16) string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if tag == 0 || int(tag) >= len(t.names) {
		return savings.Other
	}
	return t.names[tag]
}

// lookup returns the name numbered tag, if any.
func (t *bucketTags) lookup(tag uint16) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if tag == 0 || int(tag) >= len(t.names) {
		return "", false
	}
	return t.names[tag], true
}

// tagsMagic starts the table in the cache state file; its last byte is
// the format version. A file without it is a bare policy snapshot, written
// before tags.
const tagsMagic = "objstore-cache-tags\x01"

// maxBucketName bounds a bucket name read back (S3 allows 63 bytes; the
// native API more), so a corrupt length cannot allocate without limit.
const maxBucketName = 1 << 10

var errTagsCorrupt = errors.New("node: corrupt bucket tags in the cache state")

// encode appends the table to buf, with a CRC-32C.
func (t *bucketTags) encode(buf *bytes.Buffer) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	b := []byte(tagsMagic)
	b = binary.AppendUvarint(b, uint64(max(len(t.names)-1, 0)))
	for _, name := range t.names[min(1, len(t.names)):] {
		b = binary.AppendUvarint(b, uint64(len(name)))
		b = append(b, name...)
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	buf.Write(b)
}

// decode reads a table written by encode from data into t, which must be
// empty (start-up, before the node tracks anything), and
// returns the rest of data (the policy's snapshot). Data that does not
// start with the table is returned whole and t stays empty.
func (t *bucketTags) decode(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte(tagsMagic)) {
		return data, nil
	}
	r := bytes.NewReader(data[len(tagsMagic):])
	n, err := binary.ReadUvarint(r)
	if err != nil || n > math.MaxUint16 {
		return nil, fmt.Errorf("%w: count", errTagsCorrupt)
	}
	names := make([]string, 0, n)
	seen := make(map[string]bool, n)
	for range n {
		l, err := binary.ReadUvarint(r)
		if err != nil || l > maxBucketName {
			return nil, fmt.Errorf("%w: name length", errTagsCorrupt)
		}
		name := make([]byte, l)
		if _, err := io.ReadFull(r, name); err != nil {
			return nil, fmt.Errorf("%w: %w", errTagsCorrupt, err)
		}
		if seen[string(name)] {
			return nil, fmt.Errorf("%w: bucket %q twice", errTagsCorrupt, name)
		}
		seen[string(name)] = true
		names = append(names, string(name))
	}
	end := len(data) - r.Len()
	var sum [4]byte
	if _, err := io.ReadFull(r, sum[:]); err != nil ||
		binary.LittleEndian.Uint32(sum[:]) != crc32.Checksum(data[:end], crc32.MakeTable(crc32.Castagnoli)) {
		return nil, fmt.Errorf("%w: checksum", errTagsCorrupt)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.names) > 1 {
		return nil, errors.New("node: bucket tags decoded into a table in use")
	}
	for _, name := range names {
		t.addLocked(name)
	}
	return data[len(data)-r.Len():], nil
}
