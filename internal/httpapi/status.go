package httpapi

import (
	"net/http"
	"strings"
	"time"

	"sphere.software/objstore/internal/statuspage"
)

// StatusPath is the status page's JSON document.
const StatusPath = "/api/v1/status"

// routeStatus adds the status page: the page at / and /status, its assets
// under /status/, and its JSON. The page and its assets hold no figures,
// so they are served without authentication (see openStatic); the JSON is
// an API route like /api/v1/stats and is authenticated like it.
func (h *Native) routeStatus(s *statuspage.Sampler) {
	page, err := statuspage.NewPage()
	if err != nil {
		// The assets are embedded and checked by the package's tests;
		// failing here is a broken build, not a runtime condition.
		panic(err)
	}
	h.mux.HandleFunc("GET /{$}", page.ServeIndex)
	h.mux.HandleFunc("GET "+statuspage.PagePath, page.ServeIndex)
	h.mux.HandleFunc("GET "+statuspage.PagePath+"/{file}", page.ServeAsset)
	h.mux.HandleFunc("GET "+StatusPath, func(w http.ResponseWriter, r *http.Request) { h.status(w, r, s) })
}

func (h *Native) status(w http.ResponseWriter, r *http.Request, s *statuspage.Sampler) {
	st, err := h.store.Stats(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, statuspage.Build(statuspage.Input{
		Now: time.Now(), Version: h.cfg.Version, Stats: st, Members: h.store.Members(),
		Samples: s.Samples(), Interval: s.Interval(), Window: s.Window(), Prices: s.Prices(),
	}))
}

// openStatic reports whether path is the status page or one of its
// assets: static files, the same on every node, with no figures in them.
func openStatic(path string) bool {
	return path == "/" || path == statuspage.PagePath || strings.HasPrefix(path, statuspage.PagePath+"/")
}
