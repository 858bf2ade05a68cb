package journal

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"sphere.software/objstore"
)

// SetPage sets how many records s reads or removes per transaction, so that
// tests reach page boundaries with few records. Call it before using s.
func SetPage(s *Store, n int) { s.page = n }

// Verify checks, in one read transaction, that everything derived from the
// records matches them exactly: the leaf index, the tombstone index, the
// leaf and group digests (no zero digest stored) and the counts.
func Verify(s *Store) error {
	return s.db.View(func(tx *bolt.Tx) error {
		want, err := derive(tx)
		if err != nil {
			return err
		}
		got, err := stored(tx)
		if err != nil {
			return err
		}
		for name, w := range want {
			if err := diff(name, got[name], w); err != nil {
				return err
			}
		}
		return nil
	})
}

// derive computes the content of the derived buckets and the counts from
// the records bucket.
func derive(tx *bolt.Tx) (map[string]map[string]string, error) {
	want := map[string]map[string]string{}
	for _, b := range derivedBuckets {
		want[string(b)] = map[string]string{}
	}
	var leaves [objstore.DigestLeaves]uint64
	var groups [objstore.DigestGroups]uint64
	var counts objstore.Counts
	err := tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
		rec, err := decodeEntry(k, v)
		if err != nil {
			return err
		}
		leaf := objstore.LeafOf(rec.Key)
		want[string(bucketLeaves)][string(leafKey(leaf, k))] = ""
		if tk := tombKey(&rec, k); tk != nil {
			want[string(bucketTombstones)][string(tk)] = ""
		}
		leaves[leaf] ^= objstore.RecordHash(rec)
		groups[objstore.GroupOf(leaf)] ^= objstore.RecordHash(rec)
		c := contribution(rec)
		counts.Objects, counts.Bytes, counts.Tombstones = counts.Objects+c.Objects, counts.Bytes+c.Bytes, counts.Tombstones+c.Tombstones
		return nil
	})
	for leaf, d := range leaves {
		if d != 0 {
			want[string(bucketLeaves)][string(binary.BigEndian.AppendUint16(nil, uint16(leaf)))] = string(binary.BigEndian.AppendUint64(nil, d))
		}
	}
	for g, d := range groups {
		if d != 0 {
			want[string(bucketGroupDigests)][string([]byte{byte(g)})] = string(binary.BigEndian.AppendUint64(nil, d))
		}
	}
	want["counts"] = map[string]string{"": string(encodeCounts(counts))}
	return want, err
}

// stored reads the derived buckets and the counts.
func stored(tx *bolt.Tx) (map[string]map[string]string, error) {
	got := map[string]map[string]string{}
	for _, name := range derivedBuckets {
		m := map[string]string{}
		err := tx.Bucket(name).ForEach(func(k, v []byte) error {
			m[string(k)] = string(v)
			return nil
		})
		if err != nil {
			return nil, err
		}
		got[string(name)] = m
	}
	c, err := decodeCounts(tx.Bucket(bucketMeta).Get(metaCounts))
	got["counts"] = map[string]string{"": string(encodeCounts(c))}
	return got, err
}

// diff describes the first entries in which the stored bucket got differs
// from the derived want.
func diff(name string, got, want map[string]string) error {
	var msgs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok || g != want[k] {
			msgs = append(msgs, fmt.Sprintf("%x: stored %x (present %v), want %x", k, g, ok, want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			msgs = append(msgs, fmt.Sprintf("%x: stored %x, want none", k, got[k]))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %d stored, %d derived from the records; %d differ, first: %s",
		name, len(got), len(want), len(msgs), strings.Join(msgs[:min(len(msgs), 5)], "; "))
}

// DropMaxHLC removes the stored highest HLC, as a journal written before
// it was kept lacks it.
func DropMaxHLC(s *Store) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(metaMaxHLC) })
}
