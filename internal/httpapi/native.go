// Package httpapi serves objstore's public HTTP APIs on net/http: the
// native API of the original design (/api/v1/...).
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/oklog/ulid/v2"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/savings"
	"sphere.software/objstore/internal/sigv4"
	"sphere.software/objstore/internal/statuspage"
)

// Store is what the native API needs of a node.
type Store interface {
	ID() string
	Put(ctx context.Context, req node.PutRequest) (objstore.Record, error)
	Get(ctx context.Context, key objstore.Key, fetch bool) (*node.Object, error)
	GetHot(key objstore.Key) (*node.Object, bool)
	Head(ctx context.Context, key objstore.Key) (objstore.Record, error)
	Delete(ctx context.Context, key objstore.Key) (objstore.Record, error)
	DeleteBack(ctx context.Context, key objstore.Key) (objstore.Record, error)
	SetLevel(ctx context.Context, key objstore.Key, level objstore.Level) (objstore.Record, error)
	Stats(ctx context.Context) (node.Stats, error)
	Members() []objstore.Member
	HasBody(rec objstore.Record) bool
	// Scan walks a bucket's journal records in key order (/api/v1/list).
	Scan(ctx context.Context, bucket, from string, fn func(objstore.Record) bool) error
}

var _ Store = (*node.Node)(nil)

// Config configures the native API.
type Config struct {
	// Bucket is the origin bucket that native API ids live in. Required.
	Bucket string
	// Version is what /api/v1/version answers.
	Version string
	// MaxObjectSize caps a PUT body in bytes; 0 means no cap.
	MaxObjectSize int64
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
	// Warm runs warm-up jobs (/api/v1/warm); nil leaves the routes out.
	Warm Warmer
	// Prices price the savings in /api/v1/stats; zero prices nothing.
	Prices savings.Prices
	// Auth, when set, must authenticate every request but ping and
	// version, the fast path's included; nil leaves the API open, as the
	// original's was.
	Auth *Auth
	// Status, when set, serves the status page at / and /status and its
	// figures at /api/v1/status, with this sampler's history; nil leaves
	// them out.
	Status *statuspage.Sampler
}

// Native serves the native API.
type Native struct {
	cfg   Config
	store Store
	log   *slog.Logger
	mux   *http.ServeMux
}

// NewNative returns the native API handler over store.
func NewNative(cfg Config, store Store) *Native {
	h := &Native{cfg: cfg, store: store, log: cfg.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.mux.HandleFunc("GET /api/v1/get/{id}", h.get)
	h.mux.HandleFunc("GET /api/v1/meta/{id}", h.meta)
	h.mux.HandleFunc("POST /api/v1/put", h.put)
	h.mux.HandleFunc("POST /api/v1/delete/{id}", h.delete)
	h.mux.HandleFunc("POST /api/v1/level/{id}", h.level)
	h.mux.HandleFunc("GET /api/v1/id", h.newID)
	h.mux.HandleFunc("GET /api/v1/version", h.version)
	h.mux.HandleFunc("GET /api/v1/ping", h.ping)
	h.mux.HandleFunc("GET /api/v1/stats", h.stats)
	h.mux.HandleFunc("GET /api/v1/nodes", h.nodes)
	h.mux.HandleFunc("GET /api/v1/list", h.list)
	if cfg.Warm != nil {
		h.mux.HandleFunc("POST /api/v1/warm", h.startWarm)
		h.mux.HandleFunc("GET /api/v1/warm/{id}", h.warmJob)
	}
	if cfg.Status != nil {
		h.routeStatus(cfg.Status)
	}
	return h
}

// ServeHTTP rejects paths with dot segments before routing: the mux would
// answer them with a redirect, and an id is never a path. Then, when the
// API requires it, it authenticates the request (see Auth).
func (h *Native) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if hasDotSegment(r.URL.Path) {
		httpError(w, http.StatusBadRequest, "path must not contain . or .. segments")
		return
	}
	if h.cfg.Auth != nil {
		if status, reason := h.cfg.Auth.check(r); status != 0 {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="objstore"`)
			}
			httpError(w, status, reason)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

func hasDotSegment(p string) bool {
	if !strings.Contains(p, "/.") {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// key parses a native id: a ULID, case-insensitive, normalised to upper case.
func (h *Native) key(id string) (objstore.Key, error) {
	if id == "" {
		return objstore.Key{}, fmt.Errorf("%w: empty; get one from /api/v1/id", objstore.ErrInvalidID)
	}
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return objstore.Key{}, fmt.Errorf("%w: %q is not a ULID (26 Crockford base32 characters)", objstore.ErrInvalidID, truncate(id, 64))
	}
	return objstore.Key{Bucket: h.cfg.Bucket, ID: u.String()}, nil
}

func (h *Native) newID(w http.ResponseWriter, r *http.Request) {
	writeText(w, ulid.Make().String())
}

func (h *Native) version(w http.ResponseWriter, r *http.Request) { writeText(w, h.cfg.Version) }

func (h *Native) ping(w http.ResponseWriter, r *http.Request) { writeText(w, h.store.ID()) }

func writeText(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(s)) // a failed write means the client left
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // a failed write means the client left
}

// LostHeader marks an answer about an object whose body is lost
// (objstore.ErrLost): 500 on reads, and /meta's record.
const LostHeader = "X-Objstore-Lost"

// httpError answers with a one-line plain-text reason.
func httpError(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "error: %s\n", strings.ReplaceAll(reason, "\n", " "))
}

// fail maps an error to its status code and answers with it.
func (h *Native) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if errors.Is(err, objstore.ErrDeleted) {
		w.Header().Set("X-Meta-Deleted", "true")
	}
	if errors.Is(err, objstore.ErrLost) {
		w.Header().Set(LostHeader, "true")
	}
	switch {
	case r.Context().Err() != nil:
		// The client went away; nobody reads this answer.
		h.log.DebugContext(r.Context(), "request abandoned by the client", "method", r.Method, "path", r.URL.Path, "err", err)
	case status >= 500:
		h.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	httpError(w, status, err.Error())
}

func statusOf(err error) int {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, objstore.ErrInvalidID), errors.Is(err, objstore.ErrInvalidKey),
		errors.Is(err, objstore.ErrInvalidLevel), errors.Is(err, objstore.ErrInvalidWriteMode), errors.Is(err, objstore.ErrInvalidUserMeta),
		errors.Is(err, objstore.ErrIncomplete):
		return http.StatusBadRequest
	case errors.Is(err, objstore.ErrLost):
		return http.StatusInternalServerError
	case errors.Is(err, objstore.ErrNotFound), errors.Is(err, objstore.ErrDeleted):
		return http.StatusNotFound
	case errors.Is(err, objstore.ErrLevelLowered):
		return http.StatusConflict
	case errors.Is(err, objstore.ErrTooLarge), errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, objstore.ErrInsufficientStorage):
		return http.StatusInsufficientStorage
	case errors.Is(err, objstore.ErrTimeout):
		return http.StatusGatewayTimeout
	case errors.Is(err, objstore.ErrNoRemote), errors.Is(err, objstore.ErrChecksum):
		return http.StatusBadGateway
	case errors.Is(err, objstore.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	// A signed PUT's body that does not match its signature (see Auth).
	if code, status := sigv4.Code(err); code != "InternalError" {
		return status
	}
	return http.StatusInternalServerError
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// setMetaHeaders sets the X-Meta-* headers that describe rec.
func setMetaHeaders(w http.ResponseWriter, rec objstore.Record) { metaHeaders(w.Header(), rec) }

// metaHeaders sets the X-Meta-* headers, ETag and Last-Modified of rec.
func metaHeaders(hdr http.Header, rec objstore.Record) {
	hdr.Set("X-Meta-ID", rec.ID)
	if rec.Name != "" {
		hdr.Set("X-Meta-Name", headerSafe(rec.Name))
	}
	hdr.Set("X-Meta-ConsistencyLevel", strconv.Itoa(int(rec.Level)))
	if s := node.UploadState(rec); s != "" {
		hdr.Set("X-Meta-Upload", s)
	}
	if len(rec.UserMeta) > 0 {
		hdr.Set("X-Meta-UserMeta", headerSafe(string(rec.UserMeta)))
	}
	if !rec.Deleted {
		hdr.Set("ETag", rec.Sum.ETag())
		hdr.Set("Last-Modified", rec.Modified().Format(http.TimeFormat))
	}
}

// headerSafe escapes what cannot travel in a header value: control
// characters and non-ASCII runes become \uXXXX escapes (UTF-16, as in JSON),
// so JSON stays valid JSON.
func headerSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
			continue
		}
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.String()
}

// Timestamp of a record in the original's unit, nanoseconds since the epoch.
func timestamp(rec objstore.Record) int64 { return rec.Modified().UnixNano() }
