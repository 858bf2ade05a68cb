package localdir

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"sphere.software/objstore"
)

const (
	// metaDir is the directory in each bucket that holds the sidecars; it
	// is reserved as a key's first segment.
	metaDir = ".objstore-meta"
	// tmpDir is the directory under the root for writes in progress. It is
	// not a valid bucket name, so it cannot collide with a bucket.
	tmpDir = ".tmp"

	maxKeyLen     = 1024
	maxSegmentLen = 255
)

// paths are the file system paths of one object.
type paths struct {
	bucket string // the bucket directory
	body   string // the body file
	meta   string // the sidecar file
}

// keyPaths maps key to paths under root, or fails with an error wrapping
// objstore.ErrInvalidKey.
func keyPaths(root string, key objstore.Key) (paths, error) {
	if err := checkBucket(key.Bucket); err != nil {
		return paths{}, err
	}
	if err := checkKey(key.ID); err != nil {
		return paths{}, err
	}
	bucket := filepath.Join(root, key.Bucket)
	rel := filepath.FromSlash(key.ID)
	return paths{
		bucket: bucket,
		body:   filepath.Join(bucket, rel),
		meta:   filepath.Join(bucket, metaDir, rel),
	}, nil
}

// checkKey rejects keys that are not safe as relative paths.
func checkKey(id string) error {
	switch {
	case id == "":
		return invalidKey(id, "empty")
	case len(id) > maxKeyLen:
		return invalidKey(id, "longer than 1024 bytes")
	case !utf8.ValidString(id):
		return invalidKey(id, "not UTF-8")
	case strings.ContainsRune(id, 0):
		return invalidKey(id, "holds NUL")
	case strings.HasPrefix(id, "/"):
		return invalidKey(id, "absolute")
	}
	for i, seg := range strings.Split(id, "/") {
		switch {
		case seg == "":
			return invalidKey(id, "has an empty segment")
		case seg == "." || seg == "..":
			return invalidKey(id, "has a "+seg+" segment")
		case len(seg) > maxSegmentLen:
			return invalidKey(id, "has a segment longer than 255 bytes")
		case i == 0 && seg == metaDir:
			return invalidKey(id, "starts with the reserved "+metaDir)
		}
	}
	return nil
}

func invalidKey(id, why string) error {
	return fmt.Errorf("%w: key %q: %s", objstore.ErrInvalidKey, id, why)
}

// checkBucket accepts valid S3 bucket names only.
func checkBucket(b string) error {
	if why := bucketProblem(b); why != "" {
		return fmt.Errorf("%w: bucket %q: %s", objstore.ErrInvalidKey, b, why)
	}
	return nil
}

// bucketProblem says what makes b an invalid S3 bucket name, or "".
func bucketProblem(b string) string {
	if len(b) < 3 || len(b) > 63 {
		return "want 3 to 63 characters"
	}
	for _, c := range []byte(b) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return "want lowercase letters, digits, dots and hyphens"
		}
	}
	switch {
	case !isAlnum(b[0]) || !isAlnum(b[len(b)-1]):
		return "must start and end with a letter or digit"
	case strings.Contains(b, ".."), strings.Contains(b, ".-"), strings.Contains(b, "-."):
		return "adjacent dots, or a dot beside a hyphen"
	case strings.HasPrefix(b, "xn--"), strings.HasPrefix(b, "sthree-"),
		strings.HasSuffix(b, "-s3alias"), strings.HasSuffix(b, "--ol-s3"):
		return "reserved prefix or suffix"
	}
	if addr, err := netip.ParseAddr(b); err == nil && addr.Is4() {
		return "formatted as an IP address"
	}
	return ""
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
