package multipart

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"time"

	"sphere.software/objstore"
)

const (
	// idTimeLen and idRandLen are the hex digits of an upload ID's
	// initiation time and of its random part; see the package doc.
	idTimeLen = 16
	idRandLen = 32
	idLen     = idTimeLen + idRandLen

	// partPrefix starts every part name; the rest is
	// "NNNNN.<16 hex generation>.<32 hex MD5>".
	partPrefix  = "part-"
	partNumLen  = 5
	partGenLen  = 16
	partMD5Len  = 32
	partNameLen = len(partPrefix) + partNumLen + 1 + partGenLen + 1 + partMD5Len

	// infoName is the file in an upload directory that holds its Info.
	infoName = "info.json"
	// tmpDir holds writes in progress. It is no valid ID, so it cannot
	// clash with an upload directory.
	tmpDir = "tmp"
)

// newID returns a fresh upload ID for an upload initiated at t, which must
// not be before the Unix epoch.
func newID(t time.Time) string {
	var b [idLen / 2]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixNano()))
	_, _ = rand.Read(b[8:]) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b[:])
}

// idTime returns the initiation time in the valid ID id, in Unix
// nanoseconds.
func idTime(id string) uint64 {
	var t uint64
	for i := 0; i < idTimeLen; i++ {
		t = t<<4 | uint64(hexValue(id[i]))
	}
	return t
}

// validID reports whether id has the form newID gives: 48 lowercase hex
// digits. Only such an id is ever joined to a path.
func validID(id string) bool {
	return len(id) == idLen && isLowerHex(id)
}

// isLowerHex reports whether s is made of 0-9 and a-f only.
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// partName is the file name of generation gen of part number, whose MD5 is
// sum; see the package doc.
func partName(number int, gen uint64, sum objstore.MD5) string {
	return fmt.Sprintf("%s%05d.%016x.%s", partPrefix, number, gen, sum)
}

// parsePartName parses a name made by partName. It accepts nothing else:
// a name it accepts is exactly partName of what it returns.
func parsePartName(name string) (number int, gen uint64, sum objstore.MD5, ok bool) {
	if len(name) != partNameLen || name[:len(partPrefix)] != partPrefix {
		return 0, 0, sum, false
	}
	rest := name[len(partPrefix):]
	num, genHex, md5Hex := rest[:partNumLen], rest[partNumLen+1:partNumLen+1+partGenLen], rest[len(rest)-partMD5Len:]
	if rest[partNumLen] != '.' || rest[partNumLen+1+partGenLen] != '.' {
		return 0, 0, sum, false
	}
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return 0, 0, sum, false
		}
		number = number*10 + int(num[i]-'0')
	}
	if number < 1 || number > MaxParts || !isLowerHex(genHex) || !isLowerHex(md5Hex) {
		return 0, 0, sum, false
	}
	for i := 0; i < len(genHex); i++ {
		gen = gen<<4 | uint64(hexValue(genHex[i]))
	}
	if _, err := hex.Decode(sum[:], []byte(md5Hex)); err != nil {
		return 0, 0, sum, false
	}
	return number, gen, sum, true
}

// hexValue is the value of a lowercase hex digit.
func hexValue(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

// uploadDir is the directory of the upload with the valid ID id.
func uploadDir(root, id string) string { return filepath.Join(root, id) }
