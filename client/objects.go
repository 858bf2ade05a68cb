package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// PutOptions describe an object being written.
type PutOptions struct {
	// Name is the file name kept with the object; its extension sets the
	// Content-Type reads answer with. Empty keeps none.
	Name string
	// Level is the consistency level; the zero value is Local.
	Level Level
	// UserMeta is a JSON object of at most 1 KiB kept with the object;
	// nil keeps none.
	UserMeta json.RawMessage
}

// Info is an object's record as a write, a read or a delete answers it,
// in headers.
type Info struct {
	ID       string          `json:"id"`
	Name     string          `json:"name,omitempty"`
	Level    Level           `json:"level"`
	UserMeta json.RawMessage `json:"user_meta,omitempty"`
	// ETag is the quoted MD5 of the body; empty for a delete.
	ETag         string    `json:"etag,omitempty"`
	LastModified time.Time `json:"last_modified,omitzero"`
}

// infoOf reads the X-Meta-* headers, ETag and Last-Modified.
func infoOf(h http.Header) Info {
	in := Info{ID: h.Get("X-Meta-Id"), Name: h.Get("X-Meta-Name"), ETag: h.Get("ETag")}
	if l, err := ParseLevel(h.Get("X-Meta-Consistencylevel")); err == nil {
		in.Level = l
	}
	if m := h.Get("X-Meta-Usermeta"); m != "" {
		in.UserMeta = json.RawMessage(m)
	}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		in.LastModified = t
	}
	return in
}

// NewID asks a node for a new object id (a ULID).
func (c *Client) NewID(ctx context.Context) (string, error) {
	return c.text(ctx, "new id", "/api/v1/id")
}

// Put stores size bytes read from body under id (an empty id asks a node
// for a new one) and returns the record the node wrote. A size of -1
// sends a body of unknown length (chunked). A body that is an
// io.ReadSeeker, such as an *os.File, is sent again from where it stood
// if a try fails; any other body only when none of it was read. Putting
// an id again replaces the object; a lower level than its current one is
// refused with ErrConflict.
func (c *Client) Put(ctx context.Context, id string, body io.Reader, size int64, opts PutOptions) (*Info, error) {
	if !opts.Level.valid() {
		return nil, fmt.Errorf("client: put: level %d: want 0, 1 or 2", opts.Level)
	}
	if size < -1 {
		return nil, fmt.Errorf("client: put: size %d: want -1 (unknown) or more", size)
	}
	if id == "" {
		var err error
		if id, err = c.NewID(ctx); err != nil {
			return nil, err
		}
	}
	h := http.Header{}
	h.Set("X-Meta-ID", id)
	h.Set("X-Meta-ConsistencyLevel", strconv.Itoa(int(opts.Level)))
	if opts.Name != "" {
		h.Set("X-Meta-Name", opts.Name)
	}
	if opts.UserMeta != nil {
		h.Set("X-Meta-UserMeta", string(opts.UserMeta))
	}
	b := newBody(body, size)
	defer b.close()
	resp, err := c.do(ctx, call{op: "put " + id, method: http.MethodPost, path: "/api/v1/put", header: h, body: b})
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close() // a PUT answers with headers only
	in := infoOf(resp.Header)
	return &in, nil
}

// GetOptions select what a Get reads.
type GetOptions struct {
	// Offset is the first byte to read. A negative Offset reads the last
	// -Offset bytes (Length is then ignored).
	Offset int64
	// Length is how many bytes to read from Offset; 0 means to the end.
	Length int64
	// Fetch reads an id that no node knows from the origin (X-Meta-Fetch).
	Fetch bool
}

// rangeHeader is the Range header of o, or "" for the whole body.
func (o GetOptions) rangeHeader() string {
	switch {
	case o.Offset < 0:
		return fmt.Sprintf("bytes=%d", o.Offset)
	case o.Length > 0:
		return fmt.Sprintf("bytes=%d-%d", o.Offset, o.Offset+o.Length-1)
	case o.Offset > 0:
		return fmt.Sprintf("bytes=%d-", o.Offset)
	}
	return ""
}

// Get opens id's body, or the part of it opts selects, as a stream. The
// caller reads the Object and closes it. A range outside the object is
// ErrRange; an unknown or deleted id ErrNotFound.
func (c *Client) Get(ctx context.Context, id string, opts GetOptions) (*Object, error) {
	if opts.Length < 0 {
		return nil, fmt.Errorf("client: get: length %d: want 0 (to the end) or more", opts.Length)
	}
	h := http.Header{}
	if r := opts.rangeHeader(); r != "" {
		h.Set("Range", r)
	}
	if opts.Fetch {
		h.Set("X-Meta-Fetch", "1")
	}
	cl := call{op: "get " + id, method: http.MethodGet, path: "/api/v1/get/" + url.PathEscape(id), header: h,
		ok: func(s int, _ bool) bool { return s == http.StatusOK || s == http.StatusPartialContent }}
	resp, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	return c.newObject(ctx, cl, resp)
}

// Meta returns id's record. A deleted object is ErrNotFound with
// Error.Deleted set.
func (c *Client) Meta(ctx context.Context, id string) (*Meta, error) {
	var m Meta
	err := c.getJSON(ctx, "meta "+id, "/api/v1/meta/"+url.PathEscape(id), nil, &m)
	if err != nil {
		return nil, err
	}
	m.compact()
	return &m, nil
}

// SetLevel raises id's consistency level (the node uploads the body to
// the origin first for 1 and 2) and returns the new record. A level lower
// than the current one is ErrConflict.
func (c *Client) SetLevel(ctx context.Context, id string, level Level) (*Meta, error) {
	if !level.valid() {
		return nil, fmt.Errorf("client: level: %d: want 0, 1 or 2", level)
	}
	h := http.Header{}
	h.Set("X-Meta-ConsistencyLevel", strconv.Itoa(int(level)))
	resp, err := c.do(ctx, call{op: "level " + id, method: http.MethodPost, path: "/api/v1/level/" + url.PathEscape(id), header: h})
	if err != nil {
		return nil, err
	}
	var m Meta
	if err := decodeJSON(resp, "level "+id, &m); err != nil {
		return nil, err
	}
	m.compact()
	return &m, nil
}

// Delete deletes id on every node and in the origin and returns the
// tombstone's record. An unknown or already deleted id is ErrNotFound;
// but when an earlier try may have deleted it (the answer was lost), a
// retry that finds it deleted succeeds.
func (c *Client) Delete(ctx context.Context, id string) (*Info, error) {
	op := "delete " + id
	resp, err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/api/v1/delete/" + url.PathEscape(id),
		ok: func(s int, retried bool) bool { return s == http.StatusOK || retried && s == http.StatusNotFound }})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound && resp.Header.Get("X-Meta-Deleted") != "true" {
		return nil, responseError(op, endpointOf(resp), resp)
	}
	_ = resp.Body.Close() // a delete answers with headers only
	in := infoOf(resp.Header)
	return &in, nil
}

// ListPage is one page of List.
type ListPage struct {
	Objects []Meta `json:"objects"`
	// Truncated says more objects follow: list again after Next.
	Truncated bool   `json:"truncated"`
	Next      string `json:"next,omitempty"`
}

// List returns up to limit (1 to 1000; 0 means 1000) live objects of the
// node's bucket whose ids sort after after ("" from the first), in id
// order: the objects the cluster's journal holds, which a Get serves.
func (c *Client) List(ctx context.Context, after string, limit int) (*ListPage, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var p ListPage
	if err := c.getJSON(ctx, "list", "/api/v1/list", q, &p); err != nil {
		return nil, err
	}
	for i := range p.Objects {
		p.Objects[i].compact()
	}
	return &p, nil
}

// Objects iterates over every live object after after, page by page. It
// stops at the first error, which it yields.
func (c *Client) Objects(ctx context.Context, after string) iter.Seq2[Meta, error] {
	return func(yield func(Meta, error) bool) {
		for {
			p, err := c.List(ctx, after, 0)
			if err != nil {
				yield(Meta{}, err)
				return
			}
			for _, m := range p.Objects {
				if !yield(m, nil) {
					return
				}
			}
			if !p.Truncated || p.Next == "" {
				return
			}
			after = p.Next
		}
	}
}

// text GETs a text answer, trimmed.
func (c *Client) text(ctx context.Context, op, path string) (string, error) {
	resp, err := c.do(ctx, call{op: op, method: http.MethodGet, path: path})
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return "", &Error{Op: op, Endpoint: endpointOf(resp), Err: err}
	}
	return strings.TrimSpace(string(b)), nil
}

// getJSON GETs path and decodes its JSON answer into v.
func (c *Client) getJSON(ctx context.Context, op, path string, q url.Values, v any) error {
	resp, err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, query: q})
	if err != nil {
		return err
	}
	return decodeJSON(resp, op, v)
}

// endpointOf names the node that sent resp, as errors do.
func endpointOf(resp *http.Response) string {
	u := resp.Request.URL
	return u.Scheme + "://" + u.Host
}

// decodeJSON decodes resp's body into v and closes it.
func decodeJSON(resp *http.Response, op string, v any) error {
	defer func() { _ = resp.Body.Close() }() // read-only
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("objstore: %s on %s: %w: %v", op, endpointOf(resp), ErrUnexpected, err)
	}
	return nil
}
