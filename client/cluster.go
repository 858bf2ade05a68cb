package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Ping returns the ID of the node that answered. Ping needs no
// authentication.
func (c *Client) Ping(ctx context.Context) (string, error) {
	return c.text(ctx, "ping", "/api/v1/ping")
}

// Version returns the build version of the node that answered.
func (c *Client) Version(ctx context.Context) (string, error) {
	return c.text(ctx, "version", "/api/v1/version")
}

// Nodes returns the cluster's members as the node that answered sees them.
func (c *Client) Nodes(ctx context.Context) ([]Member, error) {
	var ms []Member
	if err := c.getJSON(ctx, "nodes", "/api/v1/nodes", nil, &ms); err != nil {
		return nil, err
	}
	return ms, nil
}

// Stats returns the figures of the node that answered.
func (c *Client) Stats(ctx context.Context) (*Stats, error) {
	var raw json.RawMessage
	if err := c.getJSON(ctx, "stats", "/api/v1/stats", nil, &raw); err != nil {
		return nil, err
	}
	s := Stats{Raw: raw}
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("objstore: stats: %w: %v", ErrUnexpected, err)
	}
	return &s, nil
}

// Warm starts a warm-up job on a node: it prefetches the objects req names
// into that node's cache in the background. Follow it with WarmJob or
// WaitWarm on the same client: jobs live on the node that started them,
// which the client keeps calling first. Starting a job is retried only
// when the node surely did not start it.
func (c *Client) Warm(ctx context.Context, req WarmRequest) (*WarmJob, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("client: warm: %w", err)
	}
	resp, err := c.do(ctx, call{op: "warm " + req.Bucket, method: http.MethodPost, path: "/api/v1/warm",
		header: http.Header{"Content-Type": {"application/json"}},
		body:   newBody(bytes.NewReader(b), int64(len(b))), policy: unsentOnly,
		ok: func(s int, _ bool) bool { return s == http.StatusAccepted }})
	if err != nil {
		return nil, err
	}
	var j WarmJob
	if err := decodeJSON(resp, "warm "+req.Bucket, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// maxWarmWait is the longest wait a node grants one progress request.
const maxWarmWait = time.Minute

// WarmJob returns a warm-up job's progress. With wait > 0 the node first
// waits up to that long (at most a minute) for the job to end.
func (c *Client) WarmJob(ctx context.Context, id string, wait time.Duration) (*WarmJob, error) {
	q := url.Values{}
	if wait > 0 {
		q.Set("wait", min(wait, maxWarmWait).String())
	}
	var j WarmJob
	if err := c.getJSON(ctx, "warm job "+id, "/api/v1/warm/"+url.PathEscape(id), q, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// WaitWarm waits until a warm-up job has ended, calling progress (when
// not nil) with each report on the way, and returns its last report.
func (c *Client) WaitWarm(ctx context.Context, id string, every time.Duration, progress func(*WarmJob)) (*WarmJob, error) {
	if every <= 0 {
		every = 30 * time.Second
	}
	for {
		j, err := c.WarmJob(ctx, id, every)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(j)
		}
		if j.State != WarmRunning {
			return j, nil
		}
	}
}
