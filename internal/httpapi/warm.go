package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/warm"
)

// Warmer starts and reports warm-up jobs (internal/warm.Manager).
type Warmer interface {
	Start(ctx context.Context, req warm.Request) (warm.Progress, error)
	Job(id string) (warm.Progress, bool)
	Wait(ctx context.Context, id string) (warm.Progress, bool, error)
}

// maxWarmWait bounds ?wait= on a job's progress.
const maxWarmWait = time.Minute

var _ Warmer = (*warm.Manager)(nil)

// maxWarmBody bounds a warm-up request: 100,000 keys of ~80 bytes.
const maxWarmBody = 8 << 20

// startWarm starts a warm-up job and answers 202 with its progress and
// where to poll it.
func (h *Native) startWarm(w http.ResponseWriter, r *http.Request) {
	var req warm.Request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxWarmBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		httpError(w, warmDecodeStatus(err), fmt.Sprintf("warm-up request: %v", err))
		return
	}
	p, err := h.cfg.Warm.Start(r.Context(), req)
	if err != nil {
		h.failWarm(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/warm/"+p.ID)
	writeJSON(w, http.StatusAccepted, p)
}

func warmDecodeStatus(err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// failWarm maps Start's errors: a bad request 400, a missing bucket 404,
// too many jobs 429, shutting down 503, anything else as other requests.
func (h *Native) failWarm(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, warm.ErrInvalid):
		httpError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, objstore.ErrNoSuchBucket):
		httpError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, warm.ErrBusy):
		w.Header().Set("Retry-After", "10")
		httpError(w, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, warm.ErrClosed):
		httpError(w, http.StatusServiceUnavailable, err.Error())
	default:
		h.fail(w, r, err)
	}
}

// warmJob answers a job's progress; with ?wait=DURATION (at most a
// minute) it first waits for the job to end, or for that long.
func (h *Native) warmJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, ok := h.cfg.Warm.Job(id)
	if s := r.URL.Query().Get("wait"); ok && s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > maxWarmWait {
			httpError(w, http.StatusBadRequest, fmt.Sprintf("wait %q: want a duration from 0s to %s", truncate(s, 32), maxWarmWait))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		p, ok, _ = h.cfg.Warm.Wait(ctx, id) // a wait that times out answers the progress so far
	}
	if !ok {
		httpError(w, http.StatusNotFound, fmt.Sprintf("no warm-up job %q (ended jobs are forgotten after a while)", truncate(id, 64)))
		return
	}
	writeJSON(w, http.StatusOK, p)
}
