package s3

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

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

	ctypeNone = "none"
)

// maxMetaSize is S3's limit on user-defined metadata: the UTF-8 bytes of all
// keys and values.
const maxMetaSize = 2048

// encodeMeta returns the S3 metadata that carries rec.
func encodeMeta(rec objstore.Record) map[string]string {
	m := map[string]string{
		metaName:   base64.StdEncoding.EncodeToString([]byte(rec.Name)),
		metaLevel:  strconv.Itoa(int(rec.Level)),
		metaCRC32C: rec.Sum.CRCString(),
		metaMD5:    rec.Sum.MD5.String(),
		metaHLC:    fmt.Sprintf("%016x", rec.Version.HLC),
		metaNode:   rec.Version.Node,
	}
	if len(rec.UserMeta) > 0 {
		m[metaUserMeta] = base64.StdEncoding.EncodeToString(rec.UserMeta)
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

// objectInfo is what HeadObject and GetObject tell about an object.
type objectInfo struct {
	Size        int64
	ContentType string
	ETag        string
	Meta        map[string]string
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
	crc, err := parseHex(metaCRC32C, m[metaCRC32C], 8)
	if err != nil {
		return objstore.Record{}, err
	}
	rec.Sum.CRC32C = uint32(crc)
	if err := rec.Sum.MD5.UnmarshalText([]byte(m[metaMD5])); err != nil {
		return objstore.Record{}, fmt.Errorf("%s: %w", metaMD5, err)
	}
	if rec.Level, err = objstore.ParseLevel(m[metaLevel]); err != nil {
		return objstore.Record{}, fmt.Errorf("%s: %w", metaLevel, err)
	}
	if rec.Name, err = decodeName(m[metaName]); err != nil {
		return objstore.Record{}, err
	}
	if rec.UserMeta, err = decodeUserMeta(m[metaUserMeta]); err != nil {
		return objstore.Record{}, err
	}
	rec.BodyVersion = rec.Version
	if v, ok := m[metaBody]; ok {
		if rec.BodyVersion, err = parseVersion(metaBody, v); err != nil {
			return objstore.Record{}, err
		}
	}
	return rec, nil
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
	rec.Sum.Size = info.Size
	if md5, ok := etagMD5(info.ETag); ok {
		rec.Sum.MD5 = md5
	}
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

func decodeUserMeta(s string) (json.RawMessage, error) {
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

// lowerKeys returns m with lowercase keys: S3 metadata keys are
// case-insensitive, and servers differ in the case they answer with.
func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
