// Package health answers the probes of load balancers and Kubernetes:
// /healthz (the process is alive and serves HTTP) and /readyz (the node
// can do its job: every Check passes, or some are knowingly degraded).
//
// Both are cheap and unauthenticated: they read state the node keeps
// anyway and never wait on the network, so a probe answers in microseconds
// whatever the origin or the peers do. The answer is plain text, a summary
// line and then one line per check ("origin: fail: unreachable ..."), or
// JSON with ?format=json or Accept: application/json. /readyz is 200 when
// no check fails (a degraded check says so in the body) and 503 with the
// failing checks' reasons otherwise.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The paths the Handler answers.
const (
	LivePath  = "/healthz"
	ReadyPath = "/readyz"
)

// Status is a check's outcome.
type Status string

const (
	// OK: the condition holds.
	OK Status = "ok"
	// Degraded: the condition does not hold, but the node serves anyway
	// and was told (or designed) to: readiness stays 200 and says so.
	Degraded Status = "degraded"
	// Fail: the node should not be sent traffic; readiness is 503.
	Fail Status = "fail"
)

// Result is what one check found; Detail says what, for a person.
type Result struct {
	Status Status
	Detail string
}

// Check is one condition of readiness. Run must be cheap and must not
// wait on the network: it reads what the node already knows.
type Check struct {
	Name string
	Run  func(ctx context.Context) Result
}

// checkTimeout bounds one readiness answer: the checks read local state,
// so only a wedged one (a journal stuck on a dead disk) comes near it.
const checkTimeout = 2 * time.Second

// Handler answers LivePath and ReadyPath.
type Handler struct {
	checks []Check
}

// New returns a Handler whose readiness is the checks, in order.
func New(checks ...Check) *Handler { return &Handler{checks: checks} }

// Wrap returns next with LivePath and ReadyPath answered by h first.
func (h *Handler) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == LivePath || r.URL.Path == ReadyPath {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP answers LivePath and ReadyPath (GET or HEAD); other paths get
// 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != LivePath && r.URL.Path != ReadyPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path == LivePath {
		write(w, r, http.StatusOK, Report{Status: "ok"})
		return
	}
	rep := h.Ready(r.Context())
	status := http.StatusOK
	if rep.Status == NotReady {
		status = http.StatusServiceUnavailable
	}
	write(w, r, status, rep)
}

// The overall states of a Report.
const (
	Ready    = "ready"
	NotReady = "not_ready"
	// Degraded (the Status) is also an overall state: ready, with a
	// check degraded.
)

// Report is a readiness answer: the overall state and every check's.
type Report struct {
	Status string        `json:"status"` // ready, degraded or not_ready; "ok" for /healthz
	Checks []CheckResult `json:"checks,omitempty"`
}

// CheckResult is one check in a Report.
type CheckResult struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Ready runs every check and sums them up: not ready if one fails, else
// degraded if one is, else ready.
func (h *Handler) Ready(ctx context.Context) Report {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	rep := Report{Status: Ready, Checks: make([]CheckResult, 0, len(h.checks))}
	for _, c := range h.checks {
		res := c.Run(ctx)
		rep.Checks = append(rep.Checks, CheckResult{Name: c.Name, Status: res.Status, Detail: oneLine(res.Detail)})
		switch {
		case res.Status == Fail:
			rep.Status = NotReady
		case res.Status == Degraded && rep.Status == Ready:
			rep.Status = string(Degraded)
		}
	}
	return rep
}

// names lists the checks in state s.
func (rep Report) names(s Status) []string {
	var out []string
	for _, c := range rep.Checks {
		if c.Status == s {
			out = append(out, c.Name)
		}
	}
	return out
}

// Text is the plain-text answer: a summary line ("ready", "degraded:
// origin", "not ready: origin, cluster"), then "name: status[: detail]"
// per check.
func (rep Report) Text() string {
	var b strings.Builder
	switch rep.Status {
	case NotReady:
		b.WriteString("not ready: " + strings.Join(rep.names(Fail), ", "))
	case string(Degraded):
		b.WriteString("degraded: " + strings.Join(rep.names(Degraded), ", "))
	default:
		b.WriteString(rep.Status)
	}
	b.WriteByte('\n')
	for _, c := range rep.Checks {
		b.WriteString(c.Name + ": " + string(c.Status))
		if c.Detail != "" {
			b.WriteString(": " + c.Detail)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// write answers rep in the format r asks for.
func write(w http.ResponseWriter, r *http.Request, status int, rep Report) {
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(rep) // a failed write means the prober left
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(rep.Text())) // a failed write means the prober left
}

// wantsJSON: ?format=json, or an Accept header naming application/json
// (and no ?format=text).
func wantsJSON(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json":
		return true
	case "text":
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// oneLine keeps a detail on its line of the text answer.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
