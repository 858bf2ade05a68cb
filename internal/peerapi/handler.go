package peerapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/httpbody"
	"sphere.software/objstore/internal/recordcodec"
)

// Local is what the handler needs of this node. Implemented by *node.Node.
type Local interface {
	// Apply merges records from a peer; the node acts on them (drops the
	// bodies of deleted objects, pulls level-2 bodies).
	Apply(ctx context.Context, recs []objstore.Record) error
	// GroupDigests returns objstore.DigestGroups digests, one per group.
	GroupDigests(ctx context.Context) ([]uint64, error)
	// LeafDigests returns len(groups) × objstore.LeavesPerGroup leaf
	// digests, the groups' leaves in order.
	LeafDigests(ctx context.Context, groups []uint8) ([]uint64, error)
	// ExchangeLeaves snapshots the node's records of leaves (sorted,
	// distinct), merges theirs, and returns the snapshot.
	ExchangeLeaves(ctx context.Context, leaves []uint16, theirs []objstore.Record) ([]objstore.Record, error)
	// OpenBody opens the local body of key at bodyVersion for a peer, with
	// its record. The error wraps objstore.ErrNotFound if it is not held.
	// A body with an Err() error method (a verifying reader) is checked
	// after it is served: a body that failed cuts the response.
	OpenBody(ctx context.Context, key objstore.Key, bodyVersion objstore.Version) (io.ReadSeekCloser, objstore.Record, error)
}

// Request body limits of the handler's routes.
const (
	// maxListBody bounds a leaf digests request (at most 256 groups).
	maxListBody = 4 << 10
	// maxRecordsBody bounds a records push and a leaves request. Clients
	// keep leaves requests near maxExchangeBytes.
	maxRecordsBody = 64 << 20
)

// handler serves the private API of one node.
type handler struct {
	local Local
	log   *slog.Logger
}

// NewHandler returns the handler of the routes under /private/v1/ (see the
// package doc). It does not authenticate: the caller wraps it. A nil logger
// discards the log.
func NewHandler(local Local, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{local: local, log: logger.With("component", "peerapi")}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathPing, h.ping)
	mux.HandleFunc("POST "+pathRecords, h.records)
	mux.HandleFunc("GET "+pathDigests, h.groupDigests)
	mux.HandleFunc("POST "+pathLeafDigests, h.leafDigests)
	mux.HandleFunc("POST "+pathLeaves, h.leaves)
	mux.HandleFunc("GET "+pathBody+"{bucket}/{id...}", h.body)
	return mux
}

func (h *handler) ping(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

// records applies a pushed batch of records.
func (h *handler) records(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(w, r, maxRecordsBody)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	recs, err := decodeRecords(b)
	if err == nil {
		err = h.local.Apply(r.Context(), recs)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// groupDigests answers with the node's group digests.
func (h *handler) groupDigests(w http.ResponseWriter, r *http.Request) {
	ds, err := h.local.GroupDigests(r.Context())
	if err == nil && len(ds) != objstore.DigestGroups {
		err = fmt.Errorf("peerapi: local has %d group digests, want %d", len(ds), objstore.DigestGroups)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeBinary(w, encodeDigests(ds))
}

// leafDigests answers with the leaf digests of the groups asked for.
func (h *handler) leafDigests(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(w, r, maxListBody)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	groups, err := decodeGroups(b)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ds, err := h.local.LeafDigests(r.Context(), groups)
	if want := len(groups) * objstore.LeavesPerGroup; err == nil && len(ds) != want {
		err = fmt.Errorf("peerapi: local has %d leaf digests for %d groups, want %d", len(ds), len(groups), want)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeBinary(w, encodeDigests(ds))
}

// leaves exchanges the records of some leaves: it snapshots the node's
// records of them, merges the caller's, then answers with the snapshot.
func (h *handler) leaves(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(w, r, maxRecordsBody)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	req, err := decodeLeavesRequest(b)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ours, err := h.local.ExchangeLeaves(r.Context(), req.leaves, req.records)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeBinary(w, encodeRecords(ours))
}

// body serves a local body with its checksum headers; ranges are allowed.
func (h *handler) body(w http.ResponseWriter, r *http.Request) {
	key := objstore.Key{Bucket: r.PathValue("bucket"), ID: r.PathValue("id")}
	v, err := ParseVersion(r.URL.Query().Get("v"))
	if err == nil {
		if err = recordcodec.CheckKey(key); err != nil {
			err = fmt.Errorf("peerapi: body: %w: %w", ErrMalformed, err)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, rec, err := h.local.OpenBody(r.Context(), key, v)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", rec.Sum.ETag())
	w.Header().Set(headerCRC32C, rec.Sum.CRCString())
	httpbody.Serve(w, r, v.Time(), f)
	if e, ok := f.(interface{ Err() error }); ok && e.Err() != nil {
		// A block failed its check: cut the response so that the peer
		// never takes what it got for the whole body.
		h.log.WarnContext(r.Context(), "cut a body served to a peer", "key", key, "err", e.Err())
		panic(http.ErrAbortHandler)
	}
}

// headerCRC32C carries a body's CRC-32C as 8 hex digits.
const headerCRC32C = "X-Objstore-Crc32c"

// readBody reads a request body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("peerapi: request body of %d bytes: %w", r.ContentLength, &http.MaxBytesError{Limit: limit})
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("peerapi: read request body: %w", err)
	}
	return b, nil
}

func writeBinary(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	_, _ = w.Write(b) // a failed write means the peer left
}

// fail answers with the status that err maps to and a one-line reason.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	switch {
	case status >= 500:
		h.log.ErrorContext(r.Context(), "private request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	case status != http.StatusNotFound:
		h.log.WarnContext(r.Context(), "bad private request", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	httpError(w, status, err.Error())
}

// statusOf maps an error to an HTTP status.
func statusOf(err error) int {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrMalformed), errors.Is(err, objstore.ErrInvalidKey), errors.Is(err, objstore.ErrInvalidLevel):
		return http.StatusBadRequest
	case errors.Is(err, objstore.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// httpError answers with a one-line plain-text reason.
func httpError(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "error: %s\n", oneLine.Replace(reason)) // a failed write means the peer left
}

// oneLine turns line breaks into spaces.
var oneLine = strings.NewReplacer("\r", " ", "\n", " ")
