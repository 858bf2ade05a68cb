package client

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of Config's zero fields.
const (
	DefaultMaxAttempts = 5
	DefaultMinBackoff  = 100 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
	DefaultRegion      = "us-east-1"
)

// Config says which nodes a Client talks to and how.
type Config struct {
	// Endpoints are the public API addresses of one or more nodes:
	// "http://host:10999", "https://host:10999", or "host:port" (http).
	// At least one is required; calls start at the first.
	Endpoints []string
	// HTTPClient sends the requests; nil means a client of its own with
	// no overall timeout (bodies stream for as long as they take; bound a
	// call with its context).
	HTTPClient *http.Client
	// Token is the bearer token of a node run with --native-api-auth on
	// and --native-api-token; empty sends none.
	Token string
	// AccessKey and SecretKey sign every request with AWS Signature
	// Version 4 (service s3), as one of the S3 API's keys; empty signs
	// nothing. Token wins when both are set.
	AccessKey, SecretKey string
	// Region is the signature's region, the node's -R; empty means
	// DefaultRegion.
	Region string
	// MaxAttempts bounds the tries of one call over all endpoints; 0
	// means DefaultMaxAttempts, 1 means no retry.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the wait before a round of retries:
	// it doubles from MinBackoff up to MaxBackoff, jittered; 0 means the
	// defaults.
	MinBackoff, MaxBackoff time.Duration
	// UserAgent is sent with every request; empty means "objstore-client".
	UserAgent string
}

// DefaultConfig is the configuration of a client of one node on this
// machine at the default public port.
func DefaultConfig() Config {
	return Config{Endpoints: []string{"http://127.0.0.1:10999"}}
}

// Validate checks the configuration and reports the first problem.
func (c Config) Validate() error {
	if len(c.Endpoints) == 0 {
		return errors.New("client: no endpoint given")
	}
	for _, e := range c.Endpoints {
		if _, err := parseEndpoint(e); err != nil {
			return err
		}
	}
	switch {
	case (c.AccessKey == "") != (c.SecretKey == ""):
		return errors.New("client: give both the access key and the secret key, or neither")
	case c.MaxAttempts < 0:
		return fmt.Errorf("client: MaxAttempts %d: want 0 (default) or more", c.MaxAttempts)
	case c.MinBackoff < 0 || c.MaxBackoff < 0:
		return errors.New("client: backoffs must not be negative")
	}
	return nil
}

// withDefaults fills in the zero fields.
func (c Config) withDefaults() Config {
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.UserAgent == "" {
		c.UserAgent = "objstore-client"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return c
}

// parseEndpoint turns an endpoint into a base URL without a trailing slash.
func parseEndpoint(e string) (*url.URL, error) {
	raw := strings.TrimSpace(e)
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("client: endpoint %q: %w", e, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("client: endpoint %q: want http:// or https://", e)
	case u.Host == "":
		return nil, fmt.Errorf("client: endpoint %q: no host", e)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("client: endpoint %q: want no query or fragment", e)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}
