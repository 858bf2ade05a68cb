package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// s3c is the SDK client for the origin (setup) and the presigner for GETs.
type s3c struct {
	client  *s3.Client
	presign *s3.PresignClient
	target  *url.URL // where presigned GETs are sent; nil: where they are signed for
}

func newS3(ctx context.Context, c config) (*s3c, error) {
	if (c.access == "") != (c.secret == "") {
		return nil, errors.New("give -access and -secret together")
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(c.region)}
	if c.access != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.access, c.secret, "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	sign := c.signEndpoint
	if sign == "" {
		sign = c.endpoint
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(sign)
		o.UsePathStyle = true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	s := &s3c{client: client, presign: s3.NewPresignClient(client, s3.WithPresignExpires(24*time.Hour))}
	if sign != c.endpoint {
		if s.target, err = url.Parse(c.endpoint); err != nil {
			return nil, fmt.Errorf("-endpoint: %w", err)
		}
	}
	return s, nil
}

// getURL presigns a GET of key and points it at the target.
func (s *s3c) getURL(ctx context.Context, bucket, key string) (string, error) {
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	if s.target == nil {
		return req.URL, nil
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return "", fmt.Errorf("presigned URL: %w", err)
	}
	u.Scheme, u.Host = s.target.Scheme, s.target.Host
	return u.String(), nil
}

// setupResult describes the subset, for the report.
type setupResult struct {
	Requests       int     `json:"requests"`
	Objects        int     `json:"objects"`
	UniqueBytes    int64   `json:"unique_bytes"`
	RequestedBytes int64   `json:"requested_bytes"`
	LargestObject  int64   `json:"largest_object"`
	ColdObjects    int     `json:"cold_objects_each"`
	ColdBytes      int64   `json:"cold_bytes_each"`
	HotObjects     int     `json:"hot_objects"`
	HotRequests    int     `json:"hot_requests"`
	ScanObjects    int     `json:"scan_objects"`
	ScanBytes      int64   `json:"scan_bytes"`
	Seconds        float64 `json:"seconds"`
}

// setup creates the bucket and every object: the subset's and both cold
// sets, random bytes (slices of one random buffer at varying offsets).
func setup(ctx context.Context, s *s3c, c config, w *workload) (*setupResult, error) {
	start := time.Now()
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(c.bucket)}); err != nil {
		if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(c.bucket)}); err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", c.bucket, err)
		}
	}
	all := append(append(append([]item(nil), w.objects...), w.coldA...), w.coldB...)
	scan := w.scanItems(c.scanBytes)
	all = append(all, scan...)
	big := largest(all)
	buf := make([]byte, big+1<<20)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("random bytes: %w", err)
	}
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range c.conc {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(all) {
					return nil
				}
				it := all[i]
				off := (int64(i) * 4099) % (1 << 20)
				_, err := s.client.PutObject(gctx, &s3.PutObjectInput{
					Bucket: aws.String(c.bucket), Key: aws.String(it.key),
					Body: bytes.NewReader(buf[off : off+it.size]), ContentLength: aws.Int64(it.size),
				})
				if err != nil {
					return fmt.Errorf("put %s: %w", it.key, err)
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return &setupResult{
		Requests: len(w.reqs), Objects: len(w.objects), UniqueBytes: sumSizes(w.objects),
		RequestedBytes: sumSizes(w.reqs), LargestObject: largest(w.objects),
		ColdObjects: len(w.coldA), ColdBytes: sumSizes(w.coldA), Seconds: since(start),
		HotObjects: len(w.hot), HotRequests: hotRequests(w), ScanObjects: len(scan), ScanBytes: sumSizes(scan),
	}, nil
}

// hotRequests counts the subset's requests of hot keys.
func hotRequests(w *workload) int {
	n := 0
	for _, it := range w.reqs {
		if w.hot[it.key] {
			n++
		}
	}
	return n
}
