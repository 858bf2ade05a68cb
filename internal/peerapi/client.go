package peerapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"sphere.software/objstore"
)

// Limits of what the client sends and accepts.
const (
	// maxLeavesPerRequest is the most leaves one leaves request names. It
	// bounds the peer's answer to 1/64 of its records even when this node
	// holds none of them (a new node).
	maxLeavesPerRequest = 1024
	// maxExchangeBytes is the size past which a leaves request takes no
	// more leaves (one leaf's records are never split).
	maxExchangeBytes = 8 << 20
	// maxResponseBody bounds the answer to one request.
	maxResponseBody = 256 << 20
	// maxReasonBytes is how much of an error answer is kept as its reason.
	maxReasonBytes = 512
)

// Client calls the private API of other nodes. It implements node.Peers.
// Its methods are safe for concurrent use.
type Client struct {
	hc *http.Client

	// Limits of a leaves request; NewClient sets the defaults, tests
	// lower them.
	leavesPerRequest int // at most maxLeavesPerRequest
	exchangeBytes    int
}

// NewClient returns a client that sends its requests with hc, which
// authenticates them.
func NewClient(hc *http.Client) *Client {
	return &Client{
		hc:               hc,
		leavesPerRequest: maxLeavesPerRequest,
		exchangeBytes:    maxExchangeBytes,
	}
}

// Push sends records to m and returns once m has merged them. Failures wrap
// ErrPeer.
func (c *Client) Push(ctx context.Context, m objstore.Member, recs []objstore.Record) error {
	if len(recs) == 0 {
		return nil
	}
	_, err := c.call(ctx, m, "push", http.MethodPost, pathRecords, encodeRecords(recs))
	return err
}

// OpenBody streams m's body of key at bodyVersion from byte offset on; the
// caller closes it, and reads it before ctx is done. An error wraps
// objstore.ErrNotFound when m does not hold the body, else ErrPeer.
func (c *Client) OpenBody(ctx context.Context, m objstore.Member, key objstore.Key, bodyVersion objstore.Version, offset int64) (io.ReadCloser, error) {
	op := fmt.Sprintf("open body %q at %s", key.String(), bodyVersion)
	if offset < 0 {
		return nil, fmt.Errorf("peerapi: %s: negative offset %d", op, offset)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, bodyURL(m.Addr, key, bodyVersion), nil)
	if err != nil {
		return nil, fmt.Errorf("peerapi: %s (peer %s): %w", op, m.Addr, err)
	}
	req.Header.Set(HeaderTo, m.ID)
	want := http.StatusOK
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		want = http.StatusPartialContent
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, peerErr(op, m, err)
	}
	switch resp.StatusCode {
	case want:
		return resp.Body, nil
	case http.StatusNotFound:
		return nil, statusErr(op, m, resp, objstore.ErrNotFound)
	}
	return nil, statusErr(op, m, resp, ErrPeer)
}

// call sends one request with body (nil for none), expects a 2xx answer
// and returns its body.
func (c *Client) call(ctx context.Context, m objstore.Member, op, method, path string, body []byte) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+m.Addr+path, r)
	if err != nil {
		return nil, fmt.Errorf("peerapi: %s (peer %s): %w", op, m.Addr, err)
	}
	req.Header.Set(HeaderTo, m.ID)
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, peerErr(op, m, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, statusErr(op, m, resp, ErrPeer)
	}
	defer func() { _ = resp.Body.Close() }() // the body was read: nothing to report
	b, err := readLimited(resp.Body, maxResponseBody)
	if err != nil {
		return nil, peerErr(op, m, err)
	}
	return b, nil
}

// peerErr wraps ErrPeer and the cause of a failed call.
func peerErr(op string, m objstore.Member, err error) error {
	return fmt.Errorf("peerapi: %s (peer %s): %w: %w", op, m.Addr, ErrPeer, err)
}

// statusErr reads and closes an unexpected answer and describes it with
// its status and reason, wrapping sentinel.
func statusErr(op string, m objstore.Member, resp *http.Response, sentinel error) error {
	b, _ := readLimited(resp.Body, maxReasonBytes) // a short or cut reason is still a reason
	_ = resp.Body.Close()                          // the status is the error to report
	reason := strings.TrimSpace(strings.TrimPrefix(oneLine.Replace(string(b)), "error: "))
	return fmt.Errorf("peerapi: %s (peer %s): %w: %s: %s", op, m.Addr, sentinel, resp.Status, reason)
}

// errTooLong is the cause when an answer is longer than its limit.
var errTooLong = errors.New("answer too long")

// readLimited reads r to its end, up to limit bytes; more is an error,
// and the bytes up to limit are returned with it.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && int64(len(b)) > limit {
		return b[:limit], fmt.Errorf("%w: over %d bytes", errTooLong, limit)
	}
	return b, err
}
