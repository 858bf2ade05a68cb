package s3

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"sphere.software/objstore/internal/deadline"
)

// Part sizes. S3 requires every part but the last to be at least MinPartSize
// and at most MaxPartSize bytes, and allows at most maxParts parts.
const (
	DefaultPartSize = 64 << 20
	MinPartSize     = 5 << 20
	MaxPartSize     = 5 << 30
	maxParts        = 10000
)

// DefaultDeadlines are the bounds of a request to S3 that Config leaves
// zero. A part upload of 64 MiB moves bytes all along, and S3 answers
// within seconds once the body is in, so the bounds stay well above what a
// working origin needs.
var DefaultDeadlines = deadline.Config{Connect: 5 * time.Second, FirstByte: 30 * time.Second, Progress: 30 * time.Second}

// Config configures an S3 origin.
type Config struct {
	// Bucket is the origin bucket that Check probes and String names. Keys
	// name their own bucket, so other buckets are reachable too. Required.
	Bucket string
	// Region is the AWS region. Empty means the SDK's default chain
	// (AWS_REGION, the shared config), then "us-east-1".
	Region string
	// Endpoint overrides the S3 endpoint, e.g. "http://127.0.0.1:7070" for
	// an S3-compatible server. Empty means AWS.
	Endpoint string
	// PathStyle addresses buckets as http://endpoint/bucket rather than
	// http://bucket.endpoint, as most S3-compatible servers need.
	PathStyle bool
	// Logger receives warnings. Nil means discard.
	Logger *slog.Logger
	// PartSize is the largest body sent with one PutObject and the part
	// size of larger, multipart, uploads. Zero means DefaultPartSize.
	PartSize int64
	// Deadlines bound each request: connect, first byte of the answer,
	// silence between bytes either way (see package deadline). A request
	// that hits one fails with an error that wraps objstore.ErrTimeout and
	// is not retried. Zero fields take DefaultDeadlines.
	Deadlines deadline.Config
	// WrapHTTP, when set, wraps the HTTP client every request to S3 goes
	// through, retries included (metrics count them there; Operation
	// names a request's S3 operation). Nil sends them as they are.
	WrapHTTP func(HTTPClient) HTTPClient
}

// HTTPClient sends the SDK's HTTP requests (aws.HTTPClient).
type HTTPClient = aws.HTTPClient

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if c.Bucket == "" {
		return errors.New("s3: config: bucket is required")
	}
	if c.PartSize != 0 && (c.PartSize < MinPartSize || c.PartSize > MaxPartSize) {
		return fmt.Errorf("s3: config: part size %d outside %d..%d", c.PartSize, MinPartSize, MaxPartSize)
	}
	if err := c.Deadlines.Validate(); err != nil {
		return fmt.Errorf("s3: config: %w", err)
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil {
			return fmt.Errorf("s3: config: endpoint: %w", err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("s3: config: endpoint %q: want http(s)://host[:port]", c.Endpoint)
		}
	}
	return nil
}

func (c Config) partSize() int64 {
	if c.PartSize == 0 {
		return DefaultPartSize
	}
	return c.PartSize
}
