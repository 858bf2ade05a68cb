package objstore

import (
	"encoding/binary"
	"hash/fnv"
)

// DigestGroups × LeavesPerGroup key ranges ("leaves") split the keyspace for
// anti-entropy: every key falls in one leaf by the hash of its key; a leaf's
// digest is the XOR of RecordHash over the records in it, and a group's
// digest is the XOR of its leaves. Two nodes compare group digests, then the
// leaf digests of the groups that differ, then exchange the records of the
// leaves that differ — so a sync costs in proportion to the difference.
const (
	DigestGroups   = 256
	LeavesPerGroup = 256
	DigestLeaves   = DigestGroups * LeavesPerGroup
)

// LeafOf is the leaf (0..DigestLeaves-1) that key falls in.
func LeafOf(key Key) uint16 { return uint16(keyHash(key) >> 48) }

// GroupOf is the group a leaf belongs to.
func GroupOf(leaf uint16) uint8 { return uint8(leaf >> 8) }

func keyHash(key Key) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key.Bucket)) // hash writes never fail
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(key.ID))
	return mix64(h.Sum64())
}

// RecordHash identifies one version of one record for digests: the key, the
// version and whether it is a tombstone. A version is written once, so it
// stands for the record's whole content.
func RecordHash(rec Record) uint64 {
	var buf [17]byte
	binary.BigEndian.PutUint64(buf[:8], keyHash(rec.Key))
	binary.BigEndian.PutUint64(buf[8:16], rec.Version.HLC)
	if rec.Deleted {
		buf[16] = 1
	}
	h := fnv.New64a()
	_, _ = h.Write(buf[:])
	_, _ = h.Write([]byte(rec.Version.Node))
	return mix64(h.Sum64())
}

// mix64 is the splitmix64 finaliser: it spreads FNV's weak high bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Member is one node of the cluster as membership sees it.
type Member struct {
	// ID is the node's ID (a ULID kept in its state dir).
	ID string `json:"id"`
	// Addr is the node's private address (host:port): gossip and the
	// private HTTP API share it.
	Addr string `json:"addr"`
	// State is "alive", "suspect", "dead" or "left".
	State string `json:"state"`
	// Self marks the node that answers.
	Self bool `json:"self,omitempty"`
}

// SyncStats describes one anti-entropy pass between two nodes.
type SyncStats struct {
	GroupsDiffer int   `json:"groups_differ"`
	LeavesDiffer int   `json:"leaves_differ"`
	Sent         int   `json:"records_sent"`
	Received     int   `json:"records_received"`
	BytesOut     int64 `json:"bytes_out"`
	BytesIn      int64 `json:"bytes_in"`
}

// Traffic counts the bytes of the request and response bodies that calls
// to a peer moved; SyncStats adds them up.
type Traffic struct {
	Out, In int64
}
