package s3

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"sphere.software/objstore"
)

// The user-defined metadata keys, without S3's x-amz-meta- prefix.
const (
	metaName     = "objstore-name"
	metaLevel    = "objstore-level"
	metaCRC32C   = "objstore-crc32c"
	metaMD5      = "objstore-md5"
	metaHLC      = "objstore-hlc"
	metaNode     = "objstore-node"
	metaUserMeta = "objstore-usermeta"
	metaCType    = "objstore-ctype"
	metaBody     = "objstore-body-version"
	metaExpires  = "objstore-expires"

	// metaPrefix starts every key objstore keeps for itself; the other
	// keys are the user metadata's plain entries.
	metaPrefix = "objstore-"

	ctypeNone = "none"
)

// maxMetaSize is S3's limit on user-defined metadata: the UTF-8 bytes of all
// keys and values.
const maxMetaSize = 2048

// encodeMeta returns the S3 metadata that carries rec.
func encodeMeta(rec objstore.Record) map[string]string {
	m := map[string]string{
		metaName:  base64.StdEncoding.EncodeToString([]byte(rec.Name)),
		metaLevel: strconv.Itoa(int(rec.Level)),
		metaHLC:   fmt.Sprintf("%016x", rec.Version.HLC),
		metaNode:  rec.Version.Node,
	}
	// A streamed upload starts before its body's checksums are known
	// (PutStream): its object carries none, and Stat reads the MD5 from
	// the ETag instead. No body has an all-zero MD5.
	if rec.Sum.MD5 != (objstore.MD5{}) {
		m[metaCRC32C] = rec.Sum.CRCString()
		m[metaMD5] = rec.Sum.MD5.String()
	}
	if plain, ok := plainUserMeta(rec.UserMeta); ok {
		maps.Copy(m, plain)
	} else if len(rec.UserMeta) > 0 {
		m[metaUserMeta] = base64.StdEncoding.EncodeToString(rec.UserMeta)
	}
	if v, ok := rec.Headers[headerExpires]; ok && !isHTTPDate(v) {
		m[metaExpires] = v
	}
	if rec.ContentType == "" {
		m[metaCType] = ctypeNone
	}
	if rec.BodyVersion != rec.Version {
		m[metaBody] = rec.BodyVersion.String()
	}
	return m
}

// metaSize is the size S3 counts against maxMetaSize.
func metaSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// The stored headers (objstore.StoredHeaders) that S3 keeps as the object's
// own headers, by their canonical names.
const (
	headerCacheControl       = "Cache-Control"
	headerContentDisposition = "Content-Disposition"
	headerContentEncoding    = "Content-Encoding"
	headerContentLanguage    = "Content-Language"
	headerExpires            = "Expires"
)

// objectHeaders are a record's stored headers as the fields of a PutObject
// or CreateMultipartUpload; nil fields are left out.
type objectHeaders struct {
	CacheControl       *string
	ContentDisposition *string
	ContentEncoding    *string
	ContentLanguage    *string
	Expires            *time.Time
}

// encodeHeaders returns the stored headers h as S3 object headers. An
// Expires that is not an HTTP date is left out: encodeMeta keeps it, as it
// does one that is not in the canonical form S3 answers with. Names that
// are not stored headers are left out.
func encodeHeaders(h map[string]string) objectHeaders {
	var o objectHeaders
	for name, v := range h {
		switch name {
		case headerCacheControl:
			o.CacheControl = optional(v)
		case headerContentDisposition:
			o.ContentDisposition = optional(v)
		case headerContentEncoding:
			o.ContentEncoding = optional(v)
		case headerContentLanguage:
			o.ContentLanguage = optional(v)
		case headerExpires:
			if t, err := http.ParseTime(v); err == nil {
				t = t.UTC()
				o.Expires = &t
			}
		}
	}
	return o
}

// isHTTPDate reports whether v is an HTTP date in the form S3 answers
// with (http.TimeFormat), so that it comes back as it went.
func isHTTPDate(v string) bool {
	t, err := http.ParseTime(v)
	return err == nil && t.UTC().Format(http.TimeFormat) == v
}

// responseHeaders collects the stored headers of a GetObject or HeadObject
// answer; nil if there are none.
func responseHeaders(cacheControl, disposition, encoding, language, expires *string) map[string]string {
	var h map[string]string
	for _, f := range []struct {
		name  string
		value *string
	}{
		{headerCacheControl, cacheControl},
		{headerContentDisposition, disposition},
		{headerContentEncoding, encoding},
		{headerContentLanguage, language},
		{headerExpires, expires},
	} {
		if v := aws.ToString(f.value); v != "" {
			if h == nil {
				h = make(map[string]string)
			}
			h[f.name] = v
		}
	}
	return h
}

// restoreHeaders returns a record's stored headers: those S3 answered
// with, and the Expires kept in the lowercased metadata m, which wins.
func restoreHeaders(answered, m map[string]string) map[string]string {
	h := maps.Clone(answered)
	if v, ok := m[metaExpires]; ok {
		if h == nil {
			h = make(map[string]string, 1)
		}
		h[headerExpires] = v
	}
	return h
}

// plainUserMeta returns the user metadata as plain S3 metadata entries, one
// per member, and true; or false when it is not a non-empty JSON object of
// string values whose keys and values S3 keeps exactly (see plainKey and
// plainValue).
func plainUserMeta(userMeta []byte) (map[string]string, bool) {
	var obj map[string]json.RawMessage
	if len(userMeta) == 0 || json.Unmarshal(userMeta, &obj) != nil || len(obj) == 0 {
		return nil, false
	}
	plain := make(map[string]string, len(obj))
	for k, raw := range obj {
		var v string
		if raw[0] != '"' || json.Unmarshal(raw, &v) != nil || !plainKey(k) || !plainValue(v) {
			return nil, false
		}
		plain[k] = v
	}
	return plain, true
}

// plainKey reports whether k can be an S3 metadata key of its own: S3
// lowercases keys, and objstore reserves the objstore- prefix.
func plainKey(k string) bool {
	if k == "" || strings.HasPrefix(k, metaPrefix) {
		return false
	}
	for _, c := range []byte(k) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// plainValue reports whether v survives as an HTTP header value unchanged:
// printable ASCII, not empty, and no space at either end (HTTP trims it).
func plainValue(v string) bool {
	if v == "" || v[0] == ' ' || v[len(v)-1] == ' ' {
		return false
	}
	for _, c := range []byte(v) {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// objectInfo is what HeadObject and GetObject tell about an object.
type objectInfo struct {
	Size        int64
	ContentType string
	ETag        string
	Meta        map[string]string
	// Modified is the object's Last-Modified in S3.
	Modified time.Time
	// Headers are the stored headers (objstore.StoredHeaders) S3 answered
	// with, nil if none.
	Headers map[string]string
}

// errForeign means an object carries no objstore metadata.
var errForeign = errors.New("no objstore metadata")

// decodeMeta restores the record of key from info. It fails with errForeign
// when the object has no objstore metadata, and with another error when the
// metadata is malformed.
func decodeMeta(key objstore.Key, info objectInfo) (objstore.Record, error) {
	m := lowerKeys(info.Meta)
	hlc, ok := m[metaHLC]
	if !ok {
		return objstore.Record{}, errForeign
	}
	rec := objstore.Record{Key: key, ContentType: info.ContentType, InRemote: true}
	rec.Sum.Size = info.Size
	rec.Version.Node = m[metaNode]
	if m[metaCType] == ctypeNone {
		rec.ContentType = ""
	}
	var err error
	if rec.Version.HLC, err = parseHex(metaHLC, hlc, 16); err != nil {
		return objstore.Record{}, err
	}
	if err := decodeSums(&rec.Sum, m, info.ETag); err != nil {
		return objstore.Record{}, err
	}
	if rec.Level, err = objstore.ParseLevel(m[metaLevel]); err != nil {
		return objstore.Record{}, fmt.Errorf("%s: %w", metaLevel, err)
	}
	if rec.Name, err = decodeName(m[metaName]); err != nil {
		return objstore.Record{}, err
	}
	if rec.UserMeta, err = decodeUserMeta(m); err != nil {
		return objstore.Record{}, err
	}
	rec.Headers = restoreHeaders(info.Headers, m)
	rec.BodyVersion = rec.Version
	if v, ok := m[metaBody]; ok {
		if rec.BodyVersion, err = parseVersion(metaBody, v); err != nil {
			return objstore.Record{}, err
		}
	}
	return rec, nil
}

// decodeSums restores the checksums an object's metadata holds into sum.
// An object that a streamed upload wrote holds neither (encodeMeta): its
// MD5 is its single-part ETag's, and its CRC-32C stays 0, unknown, which
// verification reads as such (node's verifyOrigin).
func decodeSums(sum *objstore.Checksum, m map[string]string, etag string) error {
	crcHex, hasCRC := m[metaCRC32C]
	md5Hex, hasMD5 := m[metaMD5]
	if !hasCRC && !hasMD5 {
		sum.MD5, _ = etagMD5(etag)
		return nil
	}
	crc, err := parseHex(metaCRC32C, crcHex, 8)
	if err != nil {
		return err
	}
	sum.CRC32C = uint32(crc)
	if err := sum.MD5.UnmarshalText([]byte(md5Hex)); err != nil {
		return fmt.Errorf("%s: %w", metaMD5, err)
	}
	return nil
}

// foreignRecord is the record of an object that objstore did not write.
func foreignRecord(key objstore.Key, info objectInfo) objstore.Record {
	rec := objstore.Record{
		Key:         key,
		Name:        key.ID[strings.LastIndex(key.ID, "/")+1:],
		ContentType: info.ContentType,
		Level:       objstore.LevelS3,
		InRemote:    true,
	}
	m := lowerKeys(info.Meta)
	rec.UserMeta = plainMeta(m)
	rec.Headers = restoreHeaders(info.Headers, m)
	rec.Sum.Size = info.Size
	if md5, ok := etagMD5(info.ETag); ok {
		rec.Sum.MD5 = md5
	}
	rec.Version = objstore.ForeignVersion(info.Modified)
	rec.BodyVersion = rec.Version
	return rec
}

// etagMD5 returns the MD5 in a plain single-part ETag.
func etagMD5(etag string) (objstore.MD5, bool) {
	var m objstore.MD5
	s := strings.Trim(etag, `"`)
	if len(s) != 32 || m.UnmarshalText([]byte(s)) != nil {
		return objstore.MD5{}, false
	}
	return m, true
}

func parseHex(field, s string, digits int) (uint64, error) {
	if len(s) != digits {
		return 0, fmt.Errorf("%s: want %d hex digits, got %q", field, digits, s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

// parseVersion parses objstore.Version.String's form: 16 hex digits, a
// dash and the node ID.
func parseVersion(field, s string) (objstore.Version, error) {
	if len(s) < 17 || s[16] != '-' {
		return objstore.Version{}, fmt.Errorf("%s: want 16 hex digits, a dash and a node ID, got %q", field, s)
	}
	hlc, err := parseHex(field, s[:16], 16)
	if err != nil {
		return objstore.Version{}, err
	}
	return objstore.Version{HLC: hlc, Node: s[17:]}, nil
}

func decodeName(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("%s: %w", metaName, err)
	}
	return string(b), nil
}

// decodeUserMeta restores the user metadata from the lowercased metadata
// m: objstore-usermeta when present, else the plain entries.
func decodeUserMeta(m map[string]string) (json.RawMessage, error) {
	s, ok := m[metaUserMeta]
	if !ok {
		return plainMeta(m), nil
	}
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", metaUserMeta, err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%s: not valid JSON", metaUserMeta)
	}
	return json.RawMessage(b), nil
}

// plainMeta returns the entries of m that objstore does not keep for
// itself as a JSON object (keys sorted), or nil when there are none.
func plainMeta(m map[string]string) json.RawMessage {
	plain := make(map[string]string, len(m))
	for k, v := range m {
		if !strings.HasPrefix(k, metaPrefix) {
			plain[k] = v
		}
	}
	if len(plain) == 0 {
		return nil
	}
	b, err := json.Marshal(plain)
	if err != nil {
		return nil // cannot happen: a map of strings always encodes
	}
	return b
}

// lowerKeys returns m with lowercase keys: S3 metadata keys are
// case-insensitive, and servers differ in the case they answer with.
func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
