package localdir

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sphere.software/objstore"
)

// sidecarFormat is the version of the sidecar's layout.
const sidecarFormat = 1

// sidecar is the JSON stored beside a body: its record.
type sidecar struct {
	Format      int               `json:"format"`
	Bucket      string            `json:"bucket"`
	ID          string            `json:"id"`
	Name        string            `json:"name,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	UserMeta    json.RawMessage   `json:"user_meta,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Level       objstore.Level    `json:"level"`
	Sum         objstore.Checksum `json:"sum"`
	Version     objstore.Version  `json:"version"`
	BodyVersion objstore.Version  `json:"body_version"`
}

// encodeSidecar returns the sidecar of rec. User metadata is kept as it is,
// but compacted, with no HTML escaping.
func encodeSidecar(rec objstore.Record) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(sidecar{
		Format:      sidecarFormat,
		Bucket:      rec.Bucket,
		ID:          rec.ID,
		Name:        rec.Name,
		ContentType: rec.ContentType,
		UserMeta:    rec.UserMeta,
		Headers:     rec.Headers,
		Level:       rec.Level,
		Sum:         rec.Sum,
		Version:     rec.Version,
		BodyVersion: rec.BodyVersion,
	})
	if err != nil {
		return nil, fmt.Errorf("encode sidecar: %w", err)
	}
	return b.Bytes(), nil
}

// decodeSidecar restores the record of key from its sidecar, checking that
// the sidecar belongs to key and to a body of size bytes.
func decodeSidecar(key objstore.Key, size int64, data []byte) (objstore.Record, error) {
	var s sidecar
	if err := json.Unmarshal(data, &s); err != nil {
		return objstore.Record{}, fmt.Errorf("decode sidecar: %w", err)
	}
	switch {
	case s.Format != sidecarFormat:
		return objstore.Record{}, fmt.Errorf("sidecar format %d, want %d", s.Format, sidecarFormat)
	case s.Bucket != key.Bucket || s.ID != key.ID:
		return objstore.Record{}, fmt.Errorf("sidecar of %s/%s", s.Bucket, s.ID)
	case s.Sum.Size != size:
		return objstore.Record{}, fmt.Errorf("sidecar size %d, body size %d", s.Sum.Size, size)
	case s.Level > objstore.MaxLevel:
		return objstore.Record{}, fmt.Errorf("sidecar level %d", s.Level)
	}
	if len(s.UserMeta) == 0 || bytes.Equal(s.UserMeta, []byte("null")) {
		s.UserMeta = nil
	}
	if len(s.Headers) == 0 {
		s.Headers = nil // a record without headers holds nil
	}
	return objstore.Record{
		Key:         key,
		Name:        s.Name,
		ContentType: s.ContentType,
		UserMeta:    s.UserMeta,
		Headers:     s.Headers,
		Level:       s.Level,
		Sum:         s.Sum,
		Version:     s.Version,
		BodyVersion: s.BodyVersion,
		InRemote:    true,
	}, nil
}
