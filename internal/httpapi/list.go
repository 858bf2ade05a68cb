package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/oklog/ulid/v2"

	"sphere.software/objstore"
)

// maxListLimit bounds one page of /api/v1/list, as S3 bounds a listing.
const maxListLimit = objstore.MaxListKeys

// listJSON is the /api/v1/list answer: one page of live objects in id
// order, and where the next page starts.
type listJSON struct {
	Objects []metaJSON `json:"objects"`
	// Truncated says that more objects follow; ask again with after=Next.
	Truncated bool   `json:"truncated"`
	Next      string `json:"next,omitempty"`
}

// list answers with one page of the native bucket's live objects as the
// cluster's journal holds them (the objects a GET serves without
// X-Meta-Fetch), in id order: ?after=ID starts after that id, ?limit=N
// (1 to 1000, default 1000) caps the page. Keys of the bucket that are not
// native ids (written through the S3 API) are left out: the native API
// cannot address them.
func (h *Native) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := listLimit(q.Get("limit"))
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	from := ""
	if after := q.Get("after"); after != "" {
		from = after + "\x00" // the smallest id after it
	}
	page := listJSON{Objects: []metaJSON{}}
	err = h.store.Scan(r.Context(), h.cfg.Bucket, from, func(rec objstore.Record) bool {
		if rec.Deleted || !nativeID(rec.ID) {
			return true
		}
		if len(page.Objects) == limit {
			page.Truncated, page.Next = true, page.Objects[limit-1].ID
			return false
		}
		m := newMetaJSON(rec)
		m.IsSymlink = !h.store.HasBody(rec)
		page.Objects = append(page.Objects, m)
		return true
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// listLimit parses ?limit=.
func listLimit(s string) (int, error) {
	if s == "" {
		return maxListLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxListLimit {
		return 0, fmt.Errorf("limit %q: want 1 to %d", truncate(s, 32), maxListLimit)
	}
	return n, nil
}

// nativeID reports whether a key is an id the native API serves: a ULID
// in its canonical upper-case form.
func nativeID(id string) bool {
	u, err := ulid.ParseStrict(id)
	return err == nil && u.String() == id
}
