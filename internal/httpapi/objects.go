package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/httpbody"
	"sphere.software/objstore/internal/node"
)

// put stores the request body under X-Meta-ID.
func (h *Native) put(w http.ResponseWriter, r *http.Request) {
	req, err := h.putRequest(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if h.cfg.MaxObjectSize > 0 {
		req.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxObjectSize)
	}
	rec, err := h.store.Put(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	setMetaHeaders(w, rec)
	w.WriteHeader(http.StatusOK)
}

// putRequest reads and checks the X-Meta-* headers of a PUT.
func (h *Native) putRequest(r *http.Request) (node.PutRequest, error) {
	id := r.Header.Get("X-Meta-ID")
	if id == "" {
		return node.PutRequest{}, fmt.Errorf("%w: missing X-Meta-ID header; get an id from /api/v1/id", objstore.ErrInvalidID)
	}
	key, err := h.key(id)
	if err != nil {
		return node.PutRequest{}, err
	}
	level, err := objstore.ParseLevel(levelHeader(r))
	if err != nil {
		return node.PutRequest{}, err
	}
	meta, err := userMeta(r.Header.Get("X-Meta-UserMeta"))
	if err != nil {
		return node.PutRequest{}, err
	}
	back, err := node.ParseWriteMode(writeHeader(r))
	if err != nil {
		return node.PutRequest{}, err
	}
	if h.cfg.MaxObjectSize > 0 && r.ContentLength > h.cfg.MaxObjectSize {
		return node.PutRequest{}, &http.MaxBytesError{Limit: h.cfg.MaxObjectSize}
	}
	return node.PutRequest{
		Key: key, Name: r.Header.Get("X-Meta-Name"), UserMeta: meta, Level: level,
		Size: r.ContentLength, Body: r.Body, WriteBack: back,
	}, nil
}

// levelHeader is X-Meta-ConsistencyLevel, or X-Meta-Level, the name the
// original server's code read.
func levelHeader(r *http.Request) string {
	if v := r.Header.Get("X-Meta-ConsistencyLevel"); v != "" {
		return v
	}
	return r.Header.Get("X-Meta-Level")
}

// writeHeader is the write mode asked for: X-Meta-Write, or
// X-Objstore-Write, the name the S3 API reads.
func writeHeader(r *http.Request) string {
	if v := r.Header.Get("X-Meta-Write"); v != "" {
		return v
	}
	return r.Header.Get("X-Objstore-Write")
}

// userMeta parses X-Meta-UserMeta: a JSON object, stored compacted.
func userMeta(v string) (json.RawMessage, error) {
	if v == "" {
		return nil, nil
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(v), &obj); err != nil || obj == nil {
		return nil, errors.Join(objstore.ErrInvalidUserMeta, errors.New("X-Meta-UserMeta must be a JSON object"))
	}
	compact, err := json.Marshal(obj)
	if err != nil {
		return nil, errors.Join(objstore.ErrInvalidUserMeta, err)
	}
	return compact, node.ValidateUserMeta(compact)
}

// get serves an object's body with ranges and conditional requests.
func (h *Native) get(w http.ResponseWriter, r *http.Request) {
	key, err := h.key(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	obj, err := h.store.Get(r.Context(), key, fetchAllowed(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer obj.Close()
	if obj.Stale {
		node.SetStaleHeaders(w.Header())
	}
	if obj.Bytes != nil && !conditional(r) {
		serveMemory(w, r, obj)
		return
	}
	setMetaHeaders(w, obj.Record)
	storedHeaders(w.Header(), obj.Record)
	switch obj.Source {
	case node.SourcePeer:
		w.Header().Set("X-Meta-Symlink", "true")
	case node.SourceRemote:
		w.Header().Set("X-Meta-Fetched", "true")
	}
	w.Header().Set("Content-Type", obj.ContentType)
	httpbody.Serve(w, r, obj.Modified(), obj.Body)
	if obj.Err() != nil {
		// The origin failed mid-body, or a local block failed its check:
		// cut the connection so the client sees an error, never a short
		// body that looks complete.
		panic(http.ErrAbortHandler)
	}
}

// conditional reports whether r asks for a range or has preconditions:
// those go through http.ServeContent.
func conditional(r *http.Request) bool {
	h := r.Header
	return h.Get("Range") != "" || h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" ||
		h.Get("If-Match") != "" || h.Get("If-Unmodified-Since") != "" || h.Get("If-Range") != ""
}

// serveMemory answers a plain GET or HEAD of a body held in memory with
// headers prepared once per cached entry: the hot path of small objects
// when FastPath does not serve the connection.
func serveMemory(w http.ResponseWriter, r *http.Request, obj *node.Object) {
	hdr := w.Header()
	for k, v := range prepare(obj).header {
		hdr[k] = v // shared, never modified: net/http only reads them
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(obj.Bytes) // a failed write means the client left
	}
}

// storedHeaders sets the response headers stored with rec (Cache-Control,
// Expires, ...; see objstore.StoredHeaders). They are set before
// http.ServeContent, which keeps them on ranges and 304s (but for
// Content-Encoding, which a 304 drops).
func storedHeaders(hdr http.Header, rec objstore.Record) {
	for name, v := range rec.Headers {
		hdr.Set(name, v)
	}
}

func fetchAllowed(r *http.Request) bool {
	v := r.Header.Get("X-Meta-Fetch")
	ok, err := strconv.ParseBool(v)
	return err == nil && ok
}

// meta answers with an object's record as JSON.
func (h *Native) meta(w http.ResponseWriter, r *http.Request) {
	key, err := h.key(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rec, err := h.store.Head(r.Context(), key)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	setMetaHeaders(w, rec)
	status := http.StatusOK
	if rec.Deleted {
		w.Header().Set("X-Meta-Deleted", "true")
		status = http.StatusNotFound
	}
	if rec.Lost {
		w.Header().Set(LostHeader, "true")
	}
	m := newMetaJSON(rec)
	m.IsSymlink = !rec.Deleted && !h.store.HasBody(rec)
	writeJSON(w, status, m)
}

// delete removes an object everywhere it is kept; in write-back mode
// (X-Meta-Write: back) it answers before the origin's copy is deleted.
func (h *Native) delete(w http.ResponseWriter, r *http.Request) {
	key, err := h.key(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	back, err := node.ParseWriteMode(writeHeader(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	del := h.store.Delete
	if back {
		del = h.store.DeleteBack
	}
	rec, err := del(r.Context(), key)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	setMetaHeaders(w, rec)
	w.Header().Set("X-Meta-Deleted", "true")
	w.WriteHeader(http.StatusOK)
}

// level raises an object's consistency level to X-Meta-ConsistencyLevel.
func (h *Native) level(w http.ResponseWriter, r *http.Request) {
	key, err := h.key(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := levelHeader(r)
	if v == "" {
		h.fail(w, r, errors.Join(objstore.ErrInvalidLevel, errors.New("missing X-Meta-ConsistencyLevel header")))
		return
	}
	level, err := objstore.ParseLevel(v)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rec, err := h.store.SetLevel(r.Context(), key, level)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	setMetaHeaders(w, rec)
	writeJSON(w, http.StatusOK, newMetaJSON(rec))
}

// metaJSON is the /api/v1/meta answer: the original's fields first, then
// the fields objstore added.
type metaJSON struct {
	ID          string          `json:"file_id"`
	Name        string          `json:"file_name"`
	Size        int64           `json:"file_size"`
	Timestamp   int64           `json:"timestamp"`
	UserMeta    json.RawMessage `json:"user_meta"`
	IsSymlink   bool            `json:"is_symlink"`
	Consistency objstore.Level  `json:"consistency"`
	IsDeleted   bool            `json:"is_deleted"`

	Bucket       string           `json:"bucket"`
	ContentType  string           `json:"content_type,omitempty"`
	ETag         string           `json:"etag,omitempty"`
	CRC32C       string           `json:"crc32c,omitempty"`
	LastModified string           `json:"last_modified"`
	Version      objstore.Version `json:"version"`
	InRemote     bool             `json:"in_remote"`
	// Lost reports a body lost to rot (objstore.Record.Lost).
	Lost bool `json:"lost,omitempty"`
	// Upload is node.UploadState: pending (write-back, not in the origin
	// yet) or uploaded; absent at level 0.
	Upload string `json:"upload,omitempty"`
}

func newMetaJSON(rec objstore.Record) metaJSON {
	m := metaJSON{
		ID: rec.ID, Name: rec.Name, Size: rec.Size(), Timestamp: timestamp(rec),
		UserMeta: rec.UserMeta, Consistency: rec.Level, IsDeleted: rec.Deleted,
		Bucket: rec.Bucket, ContentType: rec.ContentType,
		LastModified: rec.Modified().Format(http.TimeFormat),
		Version:      rec.Version, InRemote: rec.InRemote, Lost: rec.Lost,
		Upload: node.UploadState(rec),
	}
	if m.UserMeta == nil {
		m.UserMeta = json.RawMessage("null")
	}
	if !rec.Deleted {
		m.ETag, m.CRC32C = rec.Sum.ETag(), rec.Sum.CRCString()
	}
	return m
}

// stats answers with the node's figures, in the original's layout
// (disk_stats with bytes, KB, MB and GB) plus object counts and hit figures.
func (h *Native) stats(w http.ResponseWriter, r *http.Request) {
	s, err := h.store.Stats(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newStatsJSON(s, h.store.Members(), h.cfg.Prices))
}

// nodes lists the cluster's members and their state.
func (h *Native) nodes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.store.Members())
}
