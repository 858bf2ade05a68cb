package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client calls the native API of one or more nodes. It is safe for
// concurrent use.
type Client struct {
	cfg       Config
	endpoints []*url.URL
	signer    *v4.Signer // nil: requests are not signed
	// preferred is the index of the endpoint that answered last: the
	// next call starts there.
	preferred atomic.Int32
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg.withDefaults()}
	for _, e := range cfg.Endpoints {
		u, _ := parseEndpoint(e) // Validate parsed it
		c.endpoints = append(c.endpoints, u)
	}
	if c.cfg.Token == "" && c.cfg.AccessKey != "" {
		c.signer = v4.NewSigner()
	}
	return c, nil
}

// Endpoints are the base URLs the client calls, in order.
func (c *Client) Endpoints() []string {
	out := make([]string, len(c.endpoints))
	for i, u := range c.endpoints {
		out[i] = u.String()
	}
	return out
}

// CloseIdleConnections closes the connections kept open for later calls,
// as a program that is done with the client may want to.
func (c *Client) CloseIdleConnections() { c.cfg.HTTPClient.CloseIdleConnections() }

// retryPolicy says when a call may be sent again.
type retryPolicy int

const (
	// idempotent calls are retried on any connection error and on 429,
	// 502, 503 and 504.
	idempotent retryPolicy = iota
	// unsentOnly calls are retried only when the node surely did not act
	// on them: the connection could not be made, or it answered 429.
	unsentOnly
)

// call is one API call, sent by do as one or more tries.
type call struct {
	op     string // for errors: "get 01J…"
	method string
	path   string
	query  url.Values
	header http.Header
	body   *body // nil: no body
	policy retryPolicy
	// ok reports the statuses the caller handles, retried saying an
	// earlier try may have reached a node; nil means 200 only.
	ok func(status int, retried bool) bool
}

// do sends cl until a node answers with a status cl accepts, a try fails
// in a way that may not be retried, the tries run out or ctx ends. The
// caller closes the response's body.
func (c *Client) do(ctx context.Context, cl call) (*http.Response, error) {
	start := int(c.preferred.Load())
	var last *Error
	var retryAfter time.Duration
	for try := 0; try < c.cfg.MaxAttempts; try++ {
		ep := (start + try) % len(c.endpoints)
		if try > 0 {
			if err := c.pause(ctx, try, retryAfter); err != nil {
				return nil, errors.Join(last, err)
			}
			if err := cl.body.rewind(); err != nil {
				return nil, errors.Join(last, err)
			}
		}
		resp, err := c.send(ctx, c.endpoints[ep], cl)
		if err != nil {
			last = &Error{Op: cl.op, Endpoint: c.endpoints[ep].String(), Err: err}
			if ctx.Err() != nil || !c.retryTransport(cl, err) {
				return nil, last
			}
			continue
		}
		if cl.accepts(resp.StatusCode, try > 0) {
			c.preferred.Store(int32(ep))
			return resp, nil
		}
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
		last = responseError(cl.op, c.endpoints[ep].String(), resp)
		if !c.retryStatus(cl, resp.StatusCode) {
			return nil, last
		}
	}
	return nil, last
}

func (cl call) accepts(status int, retried bool) bool {
	if cl.ok == nil {
		return status == http.StatusOK
	}
	return cl.ok(status, retried)
}

// retryTransport reports whether a try that got no answer may be sent
// again.
func (c *Client) retryTransport(cl call, err error) bool {
	if !cl.body.replayable() {
		return false
	}
	return cl.policy == idempotent || isDialError(err)
}

// retryStatus reports whether a try answered with status may be sent
// again.
func (c *Client) retryStatus(cl call, status int) bool {
	if !cl.body.replayable() {
		return false
	}
	switch status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return cl.policy == idempotent
	}
	return false
}

// isDialError reports whether err is a failure to connect: the request
// never left.
func isDialError(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && ne.Op == "dial"
}

// send makes one try of cl at the endpoint base.
func (c *Client) send(ctx context.Context, base *url.URL, cl call) (*http.Response, error) {
	u := *base
	u.Path += cl.path
	u.RawQuery = cl.query.Encode()
	var rd io.Reader
	if cl.body != nil {
		rd = cl.body.attempt()
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	if cl.body != nil {
		req.ContentLength = cl.body.size
		if cl.body.size == 0 {
			req.Body = http.NoBody
		}
	}
	for k, v := range cl.header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if err := c.authenticate(ctx, req); err != nil {
		return nil, err
	}
	return c.cfg.HTTPClient.Do(req)
}

// unsignedPayload is the payload hash of a signed request whose body is
// not hashed: bodies stream, and are checked by the node's checksums.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// authenticate adds the token or the signature to req.
func (c *Client) authenticate(ctx context.Context, req *http.Request) error {
	switch {
	case c.cfg.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	case c.signer != nil:
		req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		creds := aws.Credentials{AccessKeyID: c.cfg.AccessKey, SecretAccessKey: c.cfg.SecretKey}
		if err := c.signer.SignHTTP(ctx, creds, req, unsignedPayload, "s3", c.cfg.Region, time.Now()); err != nil {
			return fmt.Errorf("sign: %w", err)
		}
	}
	return nil
}
