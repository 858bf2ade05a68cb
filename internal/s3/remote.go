package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/deadline"
)

// defaultRegion is used when neither Config.Region nor the SDK's chain names one.
const defaultRegion = "us-east-1"

// Remote is an S3 origin. It is safe for concurrent use.
type Remote struct {
	client   *s3.Client
	cfg      Config
	region   string
	partSize int64
	log      *slog.Logger
	health   *health
	// plainPuts is set once the origin answered 501 to a conditional
	// upload: PutIf then uploads without conditions (see PutIf).
	plainPuts atomic.Bool
}

// New returns a Remote for cfg. It loads credentials through the SDK's
// standard chain (environment, shared config, IMDS, ...) but sends no
// request: use Check to see whether S3 answers, or Start to probe it and
// keep its state (Health).
func New(ctx context.Context, cfg Config) (*Remote, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: load aws config: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = defaultRegion
	}
	awsCfg.HTTPClient = httpClient(cfg.Deadlines.WithDefaults(DefaultDeadlines))
	if cfg.WrapHTTP != nil {
		awsCfg.HTTPClient = cfg.WrapHTTP(awsCfg.HTTPClient)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Remote{cfg: cfg, region: awsCfg.Region, partSize: cfg.partSize(), log: log.With("component", "s3", "bucket", cfg.Bucket)}
	r.health = newHealth(r.Check, target{Bucket: cfg.Bucket, Endpoint: cfg.Endpoint, Region: awsCfg.Region}, log.With("component", "s3"))
	r.client = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Content-MD5 and objstore's own checksums guard the bodies; the
		// SDK's default CRC checksums are not supported by every
		// S3-compatible server.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		// Tell a request that could not be signed for want of credentials
		// from one S3 refused (see diagnose).
		if o.Credentials != nil {
			o.Credentials = taggedCredentials{o.Credentials}
		}
		if v2, ok := o.Retryer.(aws.RetryerV2); ok {
			o.Retryer = healthRetryer{RetryerV2: v2, noRetry: r.health.unreachable}
		}
	})
	return r, nil
}

// httpClient is the SDK's HTTP client with the bounds of dl on every
// connection (package deadline). It is frozen so that the SDK's defaults
// modes cannot change them.
func httpClient(dl deadline.Config) aws.HTTPClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		dl.Apply(tr, &net.Dialer{KeepAlive: 30 * time.Second})
	}).Freeze()
}

// String describes the origin for logs.
func (r *Remote) String() string {
	if r.cfg.Endpoint != "" {
		return "s3 bucket " + r.cfg.Bucket + " at " + r.cfg.Endpoint
	}
	return "s3 bucket " + r.cfg.Bucket + " at AWS region " + r.region
}

// Check asks S3 whether the configured bucket exists and may be read, with
// one ListObjectsV2 of at most one key and no retries. (A HeadBucket would
// do, but its answer has no body, so no error code: a wrong secret and an
// unknown access key would both be a bare 403 or 404.)
func (r *Remote) Check(ctx context.Context) error {
	_, err := r.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(r.cfg.Bucket), MaxKeys: aws.Int32(1)},
		func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		return wrap("check", objstore.Key{Bucket: r.cfg.Bucket}, err)
	}
	return nil
}

// Start probes the origin (Check) at once, logs what it found, and keeps
// probing in a goroutine until Close: with backoff while the origin is bad,
// logging each change, and now and then while it is OK. See Health.
func (r *Remote) Start(ctx context.Context) { r.health.start(ctx) }

// Close stops the probing that Start began and waits for it, at most
// until ctx ends.
func (r *Remote) Close(ctx context.Context) error { return r.health.stop(ctx) }

// Health returns the origin's state as the last probe found it; zero
// before Start.
func (r *Remote) Health() objstore.OriginHealth { return r.health.get() }

// Recheck asks the background probe to look at the origin now when its
// last look is older than maxAge (and at most every 5 s), without
// waiting for it: a reader of Health that needs a recent state (the
// node's readiness) calls it, and sees the outcome on a later read.
func (r *Remote) Recheck(maxAge time.Duration) { r.health.recheck(maxAge) }

// note gives the outcome of an object request to the probe, and adds to a
// failure what it means for the operator (wrong credentials, no answer),
// so that a client's 502 says it. A missing bucket or key is left alone:
// the caller answers those for what they are.
func (r *Remote) note(key objstore.Key, err error) error {
	r.health.observe(err)
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	d := diagnose(e.Err, target{Bucket: key.Bucket, Endpoint: r.cfg.Endpoint, Region: r.region})
	switch d.State {
	case objstore.OriginAccessDenied, objstore.OriginNoCredentials, objstore.OriginUnreachable, objstore.OriginWrongRegion:
		e.Diag = "origin " + d.String()
	case objstore.OriginNoSuchBucket:
		if e.Op == "put" { // a read's caller answers NoSuchBucket or 404 itself
			e.Diag = "origin " + d.String()
		}
	}
	return err
}

// Get opens an object and restores its record; see the package doc. The
// body streams from S3 and stops with an error once ctx is done.
func (r *Remote) Get(ctx context.Context, key objstore.Key) (io.ReadCloser, objstore.Record, error) {
	if err := checkKey(key); err != nil {
		return nil, objstore.Record{}, fmt.Errorf("s3: get %s: %w", key, err)
	}
	out, err := r.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(key.Bucket), Key: aws.String(key.ID)})
	if err != nil {
		return nil, objstore.Record{}, r.note(key, wrap("get", key, err))
	}
	return out.Body, r.getRecord(key, out), nil
}

// getRecord restores the record of a GetObject answer (Get and
// GetIfNoneMatch).
func (r *Remote) getRecord(key objstore.Key, out *s3.GetObjectOutput) objstore.Record {
	return r.restore(key, objectInfo{
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		ETag:        aws.ToString(out.ETag),
		Meta:        out.Metadata,
		Modified:    aws.ToTime(out.LastModified),
		Headers:     responseHeaders(out.CacheControl, out.ContentDisposition, out.ContentEncoding, out.ContentLanguage, out.ExpiresString),
	})
}

// Stat returns an object's record as Get would restore it.
func (r *Remote) Stat(ctx context.Context, key objstore.Key) (objstore.Record, error) {
	if err := checkKey(key); err != nil {
		return objstore.Record{}, fmt.Errorf("s3: stat %s: %w", key, err)
	}
	out, err := r.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(key.Bucket), Key: aws.String(key.ID)})
	if err != nil {
		return objstore.Record{}, r.note(key, wrap("stat", key, err))
	}
	return r.headRecord(key, out), nil
}

// headRecord restores the record of key from a HEAD's answer.
func (r *Remote) headRecord(key objstore.Key, out *s3.HeadObjectOutput) objstore.Record {
	return r.restore(key, objectInfo{
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		ETag:        aws.ToString(out.ETag),
		Meta:        out.Metadata,
		Modified:    aws.ToTime(out.LastModified),
		Headers:     responseHeaders(out.CacheControl, out.ContentDisposition, out.ContentEncoding, out.ContentLanguage, out.ExpiresString),
	})
}

// StatETag is Stat that also returns the object's ETag, the handle PutIf
// takes to replace exactly this object.
func (r *Remote) StatETag(ctx context.Context, key objstore.Key) (objstore.Record, string, error) {
	if err := checkKey(key); err != nil {
		return objstore.Record{}, "", fmt.Errorf("s3: stat %s: %w", key, err)
	}
	out, err := r.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(key.Bucket), Key: aws.String(key.ID)})
	if err != nil {
		return objstore.Record{}, "", r.note(key, wrap("stat", key, err))
	}
	return r.headRecord(key, out), aws.ToString(out.ETag), nil
}

// Delete removes an object; a missing object or bucket is not an error.
func (r *Remote) Delete(ctx context.Context, key objstore.Key) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("s3: delete %s: %w", key, err)
	}
	_, err := r.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(key.Bucket), Key: aws.String(key.ID)})
	if err != nil && !isNotFound(err) {
		return r.note(key, wrap("delete", key, err))
	}
	return nil
}

// restore returns the record of an object, from its objstore metadata or,
// lacking it, as a foreign object.
func (r *Remote) restore(key objstore.Key, info objectInfo) objstore.Record {
	rec, err := decodeMeta(key, info)
	if err == nil {
		return rec
	}
	if !errors.Is(err, errForeign) {
		r.log.Warn("malformed objstore metadata; treating object as foreign", "key", key.String(), "err", err)
	}
	return foreignRecord(key, info)
}

// checkKey rejects keys S3 cannot hold.
func checkKey(key objstore.Key) error {
	switch {
	case key.Bucket == "":
		return fmt.Errorf("%w: empty bucket", objstore.ErrInvalidKey)
	case key.ID == "":
		return fmt.Errorf("%w: empty key", objstore.ErrInvalidKey)
	case len(key.ID) > 1024:
		return fmt.Errorf("%w: key longer than 1024 bytes", objstore.ErrInvalidKey)
	}
	return nil
}
