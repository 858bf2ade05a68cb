package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

var _ io.ReadCloser = (*Object)(nil)

// Object is an open body from Get: its record and the bytes asked for,
// read as a stream. Close it when done.
type Object struct {
	Info
	// ContentType is the body's media type.
	ContentType string
	// Offset is the position of the first byte in the object, and Size
	// how many bytes this read returns.
	Offset, Size int64
	// Total is the object's whole size.
	Total int64
	// Symlink says the node streamed the body from another node;
	// Fetched that it read it from the origin on this request; Stale
	// that the origin could not be reached to revalidate it.
	Symlink, Fetched, Stale bool

	c      *Client
	ctx    context.Context
	cl     call // the request, for resuming
	rc     io.ReadCloser
	pos    int64 // bytes of Size read so far
	resume int   // resumptions made
}

// newObject opens the Object of a 200 or 206 answer.
func (c *Client) newObject(ctx context.Context, cl call, resp *http.Response) (*Object, error) {
	o := &Object{Info: infoOf(resp.Header), ContentType: resp.Header.Get("Content-Type"),
		Size: resp.ContentLength, Total: resp.ContentLength, c: c, ctx: ctx, cl: cl, rc: resp.Body,
		Symlink: resp.Header.Get("X-Meta-Symlink") == "true", Fetched: resp.Header.Get("X-Meta-Fetched") == "true",
		Stale: resp.Header.Get("X-Objstore-Stale") == "true"}
	if resp.StatusCode == http.StatusPartialContent {
		start, total, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			_ = resp.Body.Close() // unusable answer
			return nil, fmt.Errorf("objstore: %s on %s: %w: %v", cl.op, endpointOf(resp), ErrUnexpected, err)
		}
		o.Offset, o.Total = start, total
	}
	return o, nil
}

// parseContentRange reads "bytes START-END/TOTAL".
func parseContentRange(v string) (start, total int64, err error) {
	spec, ok := strings.CutPrefix(v, "bytes ")
	rng, tot, ok2 := strings.Cut(spec, "/")
	first, _, ok3 := strings.Cut(rng, "-")
	if !ok || !ok2 || !ok3 {
		return 0, 0, fmt.Errorf("Content-Range %q", v)
	}
	if start, err = strconv.ParseInt(first, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("Content-Range %q", v)
	}
	if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("Content-Range %q", v)
	}
	return start, total, nil
}

// Read reads the body. When the stream breaks off before Size bytes, it
// asks a node again for the rest (a range from the byte reached, pinned to
// the ETag read first) up to the client's MaxAttempts times.
func (o *Object) Read(p []byte) (int, error) {
	for {
		n, err := o.rc.Read(p)
		o.pos += int64(n)
		if err == nil || err == io.EOF && (o.Size < 0 || o.pos == o.Size) {
			return n, err
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if n > 0 {
			return n, nil // the error comes again at the next Read
		}
		if rerr := o.reopen(err); rerr != nil {
			return 0, rerr
		}
	}
}

// reopen replaces a broken stream with the rest of the range from a node.
func (o *Object) reopen(cause error) error {
	if o.ctx.Err() != nil || o.Size < 0 || o.ETag == "" || o.resume+1 >= o.c.cfg.MaxAttempts {
		return fmt.Errorf("objstore: %s: body broke off after %d of %d bytes: %w", o.cl.op, o.pos, o.Size, cause)
	}
	o.resume++
	_ = o.rc.Close() // broken already
	o.rc = io.NopCloser(strings.NewReader(""))
	cl := o.cl
	cl.header = cl.header.Clone()
	cl.header.Set("Range", fmt.Sprintf("bytes=%d-%d", o.Offset+o.pos, o.Offset+o.Size-1))
	cl.header.Set("If-Match", o.ETag)
	cl.ok = func(s int, _ bool) bool { return s == http.StatusPartialContent }
	resp, err := o.c.do(o.ctx, cl)
	if err != nil {
		return errors.Join(fmt.Errorf("objstore: %s: body broke off after %d of %d bytes: %w", o.cl.op, o.pos, o.Size, cause), err)
	}
	o.rc = resp.Body
	return nil
}

// Close releases the stream.
func (o *Object) Close() error { return o.rc.Close() }
