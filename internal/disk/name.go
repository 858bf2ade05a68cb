package disk

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"

	"sphere.software/objstore"
)

const (
	// keyHexLen is how many hex digits of the key's SHA-256 start a name.
	keyHexLen = 40
	// maxVersionLen is the longest version string kept as it is; a ULID
	// node ID gives 16+1+26 = 43 characters.
	maxVersionLen = 100
	// tmpDir holds bodies being written. It cannot clash with a shard,
	// whose name is two hex digits.
	tmpDir = "tmp"
	// tmpSpread is how many directories (tmp/0 to tmp/f) the bodies being
	// written are spread over: a create and a rename lock their directory,
	// and with one tmp directory 32 concurrent small PUTs spent a fifth of
	// the node's CPU waiting on that lock in the kernel (openat).
	tmpSpread = 16
)

// fileName is the file name of the body of version v of key; see the
// package documentation.
func fileName(key objstore.Key, v objstore.Version) string {
	kh := sha256.Sum256([]byte(key.Bucket + "\x00" + key.ID))
	ver := v.String()
	if !safeName(ver) {
		// A hashed version has no dash, so it never equals a real one.
		vh := sha256.Sum256([]byte(ver))
		ver = hex.EncodeToString(vh[:keyHexLen/2])
	}
	return hex.EncodeToString(kh[:keyHexLen/2]) + "." + ver
}

// safeName reports whether s is short, made of [0-9A-Za-z.-] only and free
// of "..", so that no tool could mistake any part of a name for a parent.
func safeName(s string) bool {
	if len(s) > maxVersionLen || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// bodyPath is where the body called name lives under root: in the shard
// named by its first two characters.
func bodyPath(root, name string) string {
	return filepath.Join(root, shardOf(name), name)
}

// shardOf is the shard directory name of a body name.
func shardOf(name string) string { return name[:2] }

// isShard reports whether a directory entry under root is a shard: two
// lowercase hex digits.
func isShard(s string) bool {
	return len(s) == 2 && isLowerHex(s[0]) && isLowerHex(s[1])
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// validName reports whether name could be a body's name: a key hash, a dot
// and a safe version, so that it names a file inside one shard and nothing
// else.
func validName(name string) bool {
	if len(name) < keyHexLen+2 || name[keyHexLen] != '.' || !safeName(name[keyHexLen+1:]) {
		return false
	}
	for i := 0; i < keyHexLen; i++ {
		if !isLowerHex(name[i]) {
			return false
		}
	}
	return true
}
