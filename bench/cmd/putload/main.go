// Command putload PUTs objects of one size with a fixed concurrency, either
// to an objstore node (POST /api/v1/put) or straight to an S3-compatible
// server (the SDK's PutObject, SigV4), and reports objects/s and MiB/s.
//
// Every request uses a fresh ULID as its object ID (objstore's X-Meta-ID, or
// the S3 object key, which is what objstore itself uses as the key), so
// nothing is overwritten. All requests send the same random body. A run
// stops after -n objects or -d of time, whichever comes first; the rate is
// over the objects that completed. The S3 client is configured as objstore's
// own S3 adapter is: path-style, SDK checksums only when required, and a
// Content-MD5 header (computed once: the body never changes).
//
// Mode s3 also PUTs through an objstore node's S3 API: point -endpoint at
// it, sign with its credentials (-access, -secret) and choose the level with
// -s3-level, which adds a signed X-Meta-ConsistencyLevel header to every
// PutObject.
//
// -write back makes every PUT a write-back (X-Meta-Write on the native API,
// a signed X-Objstore-Write through the S3 API): answered once durable on
// the node, uploaded later.
//
// The last line of the output is a JSON object with every figure.
package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/oklog/ulid/v2"
)

type options struct {
	mode     string
	url      string
	level    int
	endpoint string
	bucket   string
	region   string
	access   string
	secret   string
	s3Level  int
	write    string
	size     int64
	n        int
	c        int
	d        time.Duration
	label    string
}

func main() {
	var o options
	flag.StringVar(&o.mode, "mode", "objstore", "objstore (native API) or s3 (PutObject)")
	flag.StringVar(&o.url, "url", "", "objstore base URL, e.g. http://127.0.0.1:10999")
	flag.IntVar(&o.level, "level", 0, "objstore consistency level")
	flag.StringVar(&o.endpoint, "endpoint", "", "S3 endpoint URL (mode s3)")
	flag.StringVar(&o.bucket, "bucket", "bench", "S3 bucket (mode s3)")
	flag.StringVar(&o.region, "region", "us-east-1", "S3 region (mode s3)")
	flag.StringVar(&o.access, "access", "", "S3 access key (mode s3); empty = from the environment (AWS_ACCESS_KEY_ID)")
	flag.StringVar(&o.secret, "secret", "", "S3 secret key, with -access (mode s3)")
	flag.IntVar(&o.s3Level, "s3-level", -1, "mode s3: send X-Meta-ConsistencyLevel: N (an objstore node's S3 API); -1 = no header")
	flag.StringVar(&o.write, "write", "", "objstore write mode: back (write-back) or through; empty = no header")
	flag.Int64Var(&o.size, "size", 4096, "object size in bytes")
	flag.IntVar(&o.n, "n", 1000, "objects to PUT at most")
	flag.IntVar(&o.c, "c", 16, "concurrent requests")
	flag.DurationVar(&o.d, "d", 10*time.Second, "time bound of the run")
	flag.StringVar(&o.label, "label", "", "label echoed in the output")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatalf("putload: %v", err)
	}
}

// putFunc uploads body under a new key.
type putFunc func(ctx context.Context, body []byte) error

func run(o options) error {
	if o.size < 0 || o.n < 1 || o.c < 1 {
		return errors.New("want -size >= 0, -n >= 1 and -c >= 1")
	}
	if o.write != "" && o.write != "back" && o.write != "through" {
		return fmt.Errorf("-write %q: want back or through", o.write)
	}
	ctx := context.Background()
	body := make([]byte, o.size)
	_, _ = rand.Read(body) // crypto/rand.Read never fails
	var put putFunc
	switch o.mode {
	case "objstore":
		if o.url == "" {
			return errors.New("mode objstore needs -url")
		}
		put = objstorePut(o)
	case "s3":
		client, err := newS3(ctx, o)
		if err != nil {
			return err
		}
		put = s3Put(client, o, body)
	default:
		return fmt.Errorf("unknown -mode %q", o.mode)
	}
	res := load(ctx, o, put, body)
	fmt.Printf("%s: %s size=%d c=%d: %d objects in %.2fs = %.1f objects/s, %.1f MiB/s; latency p50/p99 %.1f/%.1f ms; errors %d\n",
		o.label, o.mode, o.size, o.c, res.Objects, res.Seconds, res.ObjectsPerS, res.MiBPerS, res.P50, res.P99, res.Errors)
	if res.FirstErr != "" {
		fmt.Printf("%s: first error: %s\n", o.label, res.FirstErr)
	}
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	if res.Errors > 0 {
		return fmt.Errorf("%d requests failed", res.Errors)
	}
	return nil
}

// result is one run's figures; latencies are in milliseconds.
type result struct {
	Label       string  `json:"label"`
	Mode        string  `json:"mode"`
	Level       int     `json:"level"` // -1: mode s3 without X-Meta-ConsistencyLevel
	Write       string  `json:"write,omitempty"`
	Size        int64   `json:"size"`
	Concurrency int     `json:"concurrency"`
	Objects     int64   `json:"objects"`
	Errors      int64   `json:"errors"`
	Seconds     float64 `json:"seconds"`
	ObjectsPerS float64 `json:"objects_per_s"`
	MiBPerS     float64 `json:"mib_per_s"`
	P50         float64 `json:"p50_ms"`
	P99         float64 `json:"p99_ms"`
	ClientCPU   float64 `json:"client_cpu_s"` // putload's own user+system CPU time over the run
	FirstErr    string  `json:"first_error,omitempty"`
}

// cpuSeconds is the user+system CPU time this process has used so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0 // not on this platform: the figure reads 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// load runs o.c workers that PUT until o.n objects were started or o.d
// passed. Requests in flight at the time bound are let finish (within a
// minute), so the server never sees a cancelled request; the rate counts
// them and the time they took.
func load(ctx context.Context, o options, put putFunc, body []byte) result {
	ctx, cancel := context.WithTimeout(ctx, o.d+time.Minute)
	defer cancel()
	var (
		started  atomic.Int64
		errs     atomic.Int64
		mu       sync.Mutex // guards lat and firstErr
		lat      []time.Duration
		firstErr string
		wg       sync.WaitGroup
	)
	cpu0 := cpuSeconds()
	t0 := time.Now()
	deadline := t0.Add(o.d)
	for w := 0; w < o.c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && started.Add(1) <= int64(o.n) {
				t := time.Now()
				err := put(ctx, body)
				d := time.Since(t)
				mu.Lock()
				if err != nil {
					errs.Add(1)
					if firstErr == "" {
						firstErr = err.Error()
					}
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	res := result{Label: o.label, Mode: o.mode, Level: o.level, Write: o.write, Size: o.size, Concurrency: o.c,
		Objects: int64(len(lat)), Errors: errs.Load(), Seconds: elapsed.Seconds(), FirstErr: firstErr,
		ClientCPU: cpuSeconds() - cpu0}
	if o.mode == "s3" {
		res.Level = o.s3Level
	}
	res.ObjectsPerS = float64(res.Objects) / elapsed.Seconds()
	res.MiBPerS = res.ObjectsPerS * float64(o.size) / (1 << 20)
	slices.Sort(lat)
	res.P50, res.P99 = rank(lat, 0.50), rank(lat, 0.99)
	return res
}

// rank is the nearest-rank percentile p of sorted d, in milliseconds.
func rank(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	i := int(p*float64(len(d))+0.999999) - 1
	return float64(d[max(0, min(i, len(d)-1))].Microseconds()) / 1000
}

func objstorePut(o options) putFunc {
	client := &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        o.c,
		MaxIdleConnsPerHost: o.c,
		IdleConnTimeout:     time.Minute,
	}}
	target := o.url + "/api/v1/put"
	level := strconv.Itoa(o.level)
	return func(ctx context.Context, body []byte) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("X-Meta-ID", ulid.Make().String())
		req.Header.Set("X-Meta-ConsistencyLevel", level)
		req.Header.Set("X-Meta-Name", "bench.bin")
		if o.write != "" {
			req.Header.Set("X-Meta-Write", o.write)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512)) // only for the error text
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
		}
		return nil
	}
}

func newS3(ctx context.Context, o options) (*s3.Client, error) {
	if o.endpoint == "" {
		return nil, errors.New("mode s3 needs -endpoint (this tool talks only to a local server)")
	}
	if (o.access == "") != (o.secret == "") {
		return nil, errors.New("give -access and -secret together")
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(o.region)}
	if o.access != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.access, o.secret, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	httpClient := &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        o.c,
		MaxIdleConnsPerHost: o.c,
		IdleConnTimeout:     time.Minute,
	}}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.BaseEndpoint = aws.String(o.endpoint)
		so.UsePathStyle = true
		so.HTTPClient = httpClient
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		if o.s3Level >= 0 {
			// Added before signing, so the header is signed like any other.
			so.APIOptions = append(so.APIOptions,
				smithyhttp.AddHeaderValue("X-Meta-ConsistencyLevel", strconv.Itoa(o.s3Level)))
		}
		if o.write != "" {
			so.APIOptions = append(so.APIOptions, smithyhttp.AddHeaderValue("X-Objstore-Write", o.write))
		}
	}), nil
}

// s3Put PUTs body, whose Content-MD5 it computes once.
func s3Put(client *s3.Client, o options, body []byte) putFunc {
	sum := md5.Sum(body)
	md5b64 := base64.StdEncoding.EncodeToString(sum[:])
	return func(ctx context.Context, body []byte) error {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(o.bucket),
			Key:           aws.String(ulid.Make().String()),
			Body:          bytes.NewReader(body),
			ContentLength: aws.Int64(int64(len(body))),
			ContentMD5:    aws.String(md5b64),
		})
		return err
	}
}
