package statuspage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed assets
var assets embed.FS

// PagePath is where the page is served (besides "/"); its script, style
// and icon are served under it.
const PagePath = "/status"

// csp allows the page only its own origin: its script, its style, and
// fetches of its own JSON. No inline script, no external font, script or
// CDN can load, so the page cannot leak what it shows to a third party.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentTypes are the assets' types, fixed here rather than read from
// the host's MIME database, which differs between machines.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// Page serves the embedded page and its assets. It is safe for
// concurrent use.
type Page struct {
	files map[string]asset // by file name under assets/
}

// NewPage loads the embedded assets.
func NewPage() (*Page, error) {
	p := &Page{files: make(map[string]asset)}
	entries, err := fs.ReadDir(assets, "assets")
	if err != nil {
		return nil, fmt.Errorf("statuspage: read assets: %w", err)
	}
	for _, e := range entries {
		body, err := assets.ReadFile("assets/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("statuspage: read asset %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(body)
		ctype, ok := contentTypes[path.Ext(e.Name())]
		if !ok {
			return nil, fmt.Errorf("statuspage: asset %s: no content type for its extension", e.Name())
		}
		p.files[e.Name()] = asset{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	if _, ok := p.files["index.html"]; !ok {
		return nil, fmt.Errorf("statuspage: no index.html among the assets")
	}
	return p, nil
}

// ServeIndex serves the page itself.
func (p *Page) ServeIndex(w http.ResponseWriter, r *http.Request) { p.serve(w, r, "index.html") }

// ServeAsset serves the asset named by the request's {file} path value,
// 404 for any other name.
func (p *Page) ServeAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "index.html" {
		http.Redirect(w, r, PagePath, http.StatusMovedPermanently)
		return
	}
	p.serve(w, r, name)
}

func (p *Page) serve(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := p.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// Revalidated on every load (by ETag, a 304 when unchanged), so a
	// node upgraded in place serves its new page at once.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
