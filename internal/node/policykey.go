package node

import (
	"encoding/binary"
	"encoding/hex"
)

// policyKeys turns body names into the eviction policy's keys and back.
// A name is 40 hex digits of the key's hash, a dot, the version's HLC in
// 16 hex digits, a dash and the writing node's ID: 84 bytes with a ULID,
// a 96-byte allocation per tracked body. The policy's key packs the same
// into 31 bytes (a mark, the hash's 20 bytes, the HLC's 8 and a 2-byte
// number for the node, a 32-byte allocation): 64 bytes less per object,
// the largest item of what a tracked body costs. Names that do not have
// that form (a hashed version) are kept as they are; they cannot be
// mistaken for a packed key, which starts with a byte no name has.
type policyKeys struct {
	nodes bucketTags // node IDs by number; kept in the policy's state file
}

const (
	packedMark = 0x00
	hashHex    = 40 // hex digits of the key hash that start a name
	hlcHex     = 16
	packedLen  = 1 + hashHex/2 + hlcHex/2 + 2
)

// key returns the policy key of the body called name.
func (k *policyKeys) key(name string) string {
	const dot, dash = hashHex, hashHex + 1 + hlcHex
	if len(name) <= dash || name[dot] != '.' || name[dash] != '-' {
		return name
	}
	var b [packedLen]byte
	b[0] = packedMark
	if !lowerHex(b[1:1+hashHex/2], name[:hashHex]) || !lowerHex(b[1+hashHex/2:packedLen-2], name[dot+1:dash]) {
		return name
	}
	tag := k.nodes.tag(name[dash+1:])
	if tag == 0 {
		return name // more than 65,535 writers: keep the name
	}
	binary.BigEndian.PutUint16(b[packedLen-2:], tag)
	return string(b[:])
}

// name returns the body name of a policy key.
func (k *policyKeys) name(key string) string {
	if len(key) != packedLen || key[0] != packedMark {
		return key
	}
	node, ok := k.nodes.lookup(binary.BigEndian.Uint16([]byte(key[packedLen-2:])))
	if !ok {
		return key // not a key this table packed: matches no body
	}
	b := make([]byte, 0, hashHex+1+hlcHex+1+len(node))
	b = hex.AppendEncode(b, []byte(key[1:1+hashHex/2]))
	b = append(b, '.')
	b = hex.AppendEncode(b, []byte(key[1+hashHex/2:packedLen-2]))
	b = append(b, '-')
	b = append(b, node...)
	return string(b)
}

// lowerHex decodes src, lowercase hex digits only (as names are written,
// so that name gives back the same string), into dst.
func lowerHex(dst []byte, src string) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := hexVal(src[2*i])
		lo, ok2 := hexVal(src[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
