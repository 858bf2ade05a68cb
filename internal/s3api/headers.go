package s3api

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/sigv4"
)

// levelMetaKey is the user-metadata key (x-amz-meta-objstore-level) that
// sets the consistency level, for clients that can set metadata but not
// arbitrary headers. The objstore- prefix is reserved otherwise.
const levelMetaKey = "objstore-level"

// writeMetaKey is the user-metadata key (x-amz-meta-objstore-write) that
// sets the write mode, beside the X-Objstore-Write header.
const writeMetaKey = "objstore-write"

const reservedMetaPrefix = "objstore-"

// writeAttrs are the attributes of an object write taken from the request
// headers: everything but the body.
type writeAttrs struct {
	ContentType string
	UserMeta    json.RawMessage
	Headers     map[string]string
	// Level is the level asked for, when levelSet.
	Level    objstore.Level
	LevelSet bool
	// WriteBack is the write mode asked for, when WriteSet.
	WriteBack, WriteSet bool
}

// parseWriteAttrs reads Content-Type, the stored headers, x-amz-meta-* and
// the level from h.
func parseWriteAttrs(h http.Header) (writeAttrs, error) {
	var a writeAttrs
	// S3 stores the type a client sends, and binary/octet-stream when it
	// sends none: the node's guess from the name or the bytes would make
	// the same PUT answer differently here and on S3.
	a.ContentType = h.Get("Content-Type")
	if a.ContentType == "" {
		a.ContentType = "binary/octet-stream"
	}
	for _, name := range objstore.StoredHeaders {
		if v := h.Get(name); v != "" {
			if a.Headers == nil {
				a.Headers = map[string]string{}
			}
			a.Headers[name] = v
		}
	}
	meta := map[string]string{}
	for k, vs := range h {
		name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-")
		if !ok {
			continue
		}
		if name == "" {
			return a, errInvalidArgument("a user metadata header has an empty name")
		}
		v := strings.Join(vs, ",")
		if name == levelMetaKey {
			if err := a.setLevel(v); err != nil {
				return a, err
			}
			continue
		}
		if name == writeMetaKey {
			if err := a.setWrite(v); err != nil {
				return a, err
			}
			continue
		}
		if strings.HasPrefix(name, reservedMetaPrefix) {
			return a, errInvalidArgument("user metadata x-amz-meta-%s: the prefix objstore- is reserved", name)
		}
		meta[name] = v
	}
	if v := h.Get("X-Meta-ConsistencyLevel"); v != "" {
		if err := a.setLevel(v); err != nil {
			return a, err
		}
	}
	if v := h.Get("X-Objstore-Write"); v != "" {
		if err := a.setWrite(v); err != nil {
			return a, err
		}
	}
	if len(meta) > 0 {
		b, err := json.Marshal(meta)
		if err != nil {
			return a, err
		}
		if len(b) > objstore.MaxUserMeta {
			return a, errorf("MetadataTooLarge", http.StatusBadRequest,
				"user metadata is %d bytes as JSON; objstore keeps at most %d so that it fits in S3 beside its own", len(b), objstore.MaxUserMeta)
		}
		a.UserMeta = b
	}
	return a, nil
}

func (a *writeAttrs) setLevel(v string) error {
	l, err := objstore.ParseLevel(v)
	if err != nil {
		return errInvalidArgument("consistency level %q: want 0, 1 or 2", v)
	}
	if a.LevelSet && l != a.Level {
		return errInvalidArgument("two different consistency levels given")
	}
	a.Level, a.LevelSet = l, true
	return nil
}

func (a *writeAttrs) setWrite(v string) error {
	back, err := node.ParseWriteMode(v)
	if err != nil {
		return errInvalidArgument("write mode %q: want %s or %s", v, node.WriteThrough, node.WriteBack)
	}
	if a.WriteSet && back != a.WriteBack {
		return errInvalidArgument("two different write modes given")
	}
	a.WriteBack, a.WriteSet = back, true
	return nil
}

// fromRecord returns the attributes of an existing object, for a copy that
// keeps them.
func fromRecord(rec objstore.Record) writeAttrs {
	return writeAttrs{ContentType: rec.ContentType, UserMeta: rec.UserMeta, Headers: rec.Headers}
}

// setObjectHeaders sets the headers that describe rec on a GET or HEAD.
func setObjectHeaders(h http.Header, rec objstore.Record) {
	ct := rec.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("ETag", rec.Sum.ETag())
	h.Set("Last-Modified", rec.Modified().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	for k, v := range rec.Headers {
		h.Set(k, v)
	}
	for k, v := range userMetaHeaders(rec.UserMeta) {
		// Lower case, as S3 sends them: boto3 and the AWS CLI keep the
		// case that arrives, and look keys up in lower case.
		h["x-amz-meta-"+k] = []string{v}
	}
	h.Set("X-Meta-ConsistencyLevel", strconv.Itoa(int(rec.Level)))
	if s := node.UploadState(rec); s != "" {
		h.Set("X-Objstore-Upload", s)
	}
}

// userMetaHeaders turns user metadata (a JSON object) into x-amz-meta-*
// values: strings as they are, other JSON values in their JSON encoding,
// which is how metadata written through the native API reads on S3.
func userMetaHeaders(meta json.RawMessage) map[string]string {
	if len(meta) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(meta, &obj) != nil {
		return nil
	}
	out := make(map[string]string, len(obj))
	for k, raw := range obj {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		out[strings.ToLower(k)] = headerValue(s)
	}
	return out
}

// headerValue makes v safe as an HTTP header value. UTF-8 goes out as it
// came in (HTTP allows those bytes as obs-text, and clients read back the
// value they wrote: s3-tests test_object_set_get_unicode_metadata, which
// the origin passes too); a value with control characters or invalid UTF-8
// could not be sent raw and is escaped.
func headerValue(v string) string {
	if !utf8.ValidString(v) {
		return strconv.QuoteToASCII(v)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			return strconv.QuoteToASCII(v)
		}
	}
	return v
}

// checksumHeaders are the x-amz-checksum-* request headers objstore checks.
var checksumHeaders = []string{"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
	"x-amz-checksum-sha1", "x-amz-checksum-sha256"}

// bodyCheck verifies the digests a client sent with a body: Content-MD5
// and an x-amz-checksum-* header.
type bodyCheck struct {
	contentMD5 []byte
	header     string // the x-amz-checksum-* header, or ""
	want       string
	h          hash.Hash
}

// newBodyCheck reads the digests of h; a malformed Content-MD5 is
// InvalidDigest. A header that is present but empty is malformed too, as
// on S3 (s3-tests test_object_create_bad_md5_empty): a client that meant
// to send a digest and lost it must not have its body stored unchecked.
func newBodyCheck(h http.Header) (*bodyCheck, error) {
	c := &bodyCheck{}
	if vs := h.Values("Content-MD5"); len(vs) > 0 {
		v := vs[0]
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) != 16 {
			return nil, errorf("InvalidDigest", http.StatusBadRequest, "Content-MD5 %q is not the base64 of 16 bytes", v)
		}
		c.contentMD5 = b
	}
	for _, name := range checksumHeaders {
		if v := h.Get(name); v != "" {
			c.header, c.want, c.h = name, v, sigv4.NewChecksum(name)
			break
		}
	}
	return c, nil
}

// hash returns the hash the body must be written through, or nil.
func (c *bodyCheck) hash() hash.Hash { return c.h }

// verify checks sum and the x-amz-checksum digest against what was sent.
func (c *bodyCheck) verify(sum objstore.Checksum) error {
	if c.contentMD5 != nil && string(c.contentMD5) != string(sum.MD5[:]) {
		return errorf("BadDigest", http.StatusBadRequest, "the Content-MD5 you specified did not match what we received")
	}
	if c.h != nil {
		if got := sigv4.ChecksumValue(c.h); got != c.want {
			return errorf("BadDigest", http.StatusBadRequest, "the %s you specified (%s) did not match what we received (%s)", c.header, c.want, got)
		}
	}
	return nil
}

// echo sets the response header that confirms the checksum, as S3 does.
func (c *bodyCheck) echo(h http.Header) {
	if c.h != nil {
		h.Set(c.header, c.want)
	}
}

// crc32cValue is a CRC-32C as the x-amz-checksum-crc32c header spells it.
func crc32cValue(crc uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], crc)
	return base64.StdEncoding.EncodeToString(b[:])
}

// nameOf is the file name of a key: its last path segment.
func nameOf(key string) string { return path.Base("/" + key) }

// copySource parses x-amz-copy-source: "[/]bucket/key[?versionId=null]",
// URL-encoded.
func copySource(v string) (objstore.Key, error) {
	src, version, _ := strings.Cut(v, "?")
	if version != "" && version != "versionId=null" {
		return objstore.Key{}, errNotImplemented("copying a specific version (objstore buckets are not versioned)")
	}
	dec, err := url.PathUnescape(src)
	if err != nil {
		return objstore.Key{}, errInvalidArgument("x-amz-copy-source %q: bad URL encoding: %v", v, err)
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(dec, "/"), "/")
	if !ok || bucket == "" || key == "" {
		return objstore.Key{}, errInvalidArgument("x-amz-copy-source %q: want bucket/key", v)
	}
	return objstore.Key{Bucket: bucket, ID: key}, nil
}
