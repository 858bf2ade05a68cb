package multipart

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"sphere.software/objstore"
)

// Info is what CreateMultipartUpload was given, plus the ID and time the
// store assigned. It is kept as JSON in the upload's directory and never
// changes.
type Info struct {
	// ID names the upload; see the package doc for its form.
	ID          string    `json:"id"`
	Bucket      string    `json:"bucket"`
	Key         string    `json:"key"`
	Initiated   time.Time `json:"initiated"`
	ContentType string    `json:"content_type,omitempty"`
	// UserMeta is the object's user metadata, a JSON value, or nil.
	UserMeta json.RawMessage `json:"user_meta,omitempty"`
	// Headers are the stored response headers (objstore.StoredHeaders)
	// to give the object, keyed by canonical name; nil when none.
	Headers map[string]string `json:"headers,omitempty"`
	Level   objstore.Level    `json:"level"`
	// LevelIsFloor says the upload named no level: Level is the default,
	// and the completed object keeps its current level if that is higher
	// then (node.PutRequest.LevelIsFloor).
	LevelIsFloor bool `json:"level_is_floor,omitempty"`
	// WriteBack says the completed object is written back: it is
	// acknowledged once durable on the node and uploaded to the origin by
	// the outbox (node.PutRequest.WriteBack). Uploads created before it
	// existed have none: write-through, what they were created as.
	WriteBack bool `json:"write_back,omitempty"`
}

// clone returns a copy of i that shares no memory with it.
func (i Info) clone() Info {
	i.UserMeta = bytes.Clone(i.UserMeta)
	i.Headers = maps.Clone(i.Headers)
	return i
}

// infoFormat is the version of info.json's layout.
const infoFormat = 1

// infoFile is the content of info.json.
type infoFile struct {
	Format int `json:"format"`
	Info
}

// encodeInfo returns the content of info.json for i.
func encodeInfo(i Info) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(infoFile{Format: infoFormat, Info: i}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decodeInfo parses the info.json of the upload id.
func decodeInfo(id string, data []byte) (Info, error) {
	var f infoFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Info{}, err
	}
	switch {
	case f.Format != infoFormat:
		return Info{}, fmt.Errorf("unknown format %d", f.Format)
	case f.ID != id:
		return Info{}, fmt.Errorf("id %q in the directory of %s", f.ID, id)
	case f.Initiated.UnixNano() < 0 || uint64(f.Initiated.UnixNano()) != idTime(id):
		// ListUploads relies on IDs sorting as their initiation times.
		return Info{}, fmt.Errorf("initiated %s disagrees with the id", f.Initiated)
	}
	return f.Info, nil
}
