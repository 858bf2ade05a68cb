// Command stampede starts N concurrent GETs of one URL at the same instant
// and reports, per request, the time to the first byte of the response
// (TTFB) and to its last byte (total), as p50, p99 and max over the N.
//
// Every goroutine has its own connection, set up before the barrier opens so
// that dialing is not part of the figures; then a closed channel starts all
// requests at once. Every body is hashed with SHA-256: the run fails unless
// all N answered 200 with the same body (and, with -sha256 or -size, the
// expected one). With -rounds R it does R such stampedes one after another
// (of the same URL, so only the first can be cold) and reports each.
//
// The last line of the output is a JSON object with every figure, for
// scripts; percentiles are nearest-rank (p99 of 100 samples is the 99th
// smallest).
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

type options struct {
	url      string
	n        int
	rounds   int
	headers  headerFlags
	wantSHA  string
	wantSize int64
	countHdr string
	timeout  time.Duration
	label    string
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "", "URL to GET")
	flag.IntVar(&o.n, "n", 100, "concurrent requests per round")
	flag.IntVar(&o.rounds, "rounds", 1, "stampedes in a row")
	flag.Var(&o.headers, "H", "request header 'Name: value' (repeatable)")
	flag.StringVar(&o.wantSHA, "sha256", "", "expected body SHA-256 (hex); empty = only check they agree")
	flag.Int64Var(&o.wantSize, "size", -1, "expected body size; -1 = any")
	flag.StringVar(&o.countHdr, "count-header", "", "tally the values of this response header")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Minute, "bound on one whole round")
	flag.StringVar(&o.label, "label", "", "label echoed in the output")
	flag.Parse()
	if o.url == "" || o.n < 1 || o.rounds < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(o); err != nil {
		log.Fatalf("stampede: %v", err)
	}
}

// sample is one request's outcome.
type sample struct {
	ttfb, total time.Duration
	status      int
	size        int64
	sha         string
	hdr         string
	err         error
}

// roundResult holds one round's figures; durations are in milliseconds.
type roundResult struct {
	OK        int            `json:"ok"`
	Errors    int            `json:"errors"`
	Bytes     int64          `json:"bytes"`
	SHA256    string         `json:"sha256"`
	SameBody  bool           `json:"same_body"`
	TTFBp50   float64        `json:"ttfb_p50_ms"`
	TTFBp99   float64        `json:"ttfb_p99_ms"`
	TTFBmax   float64        `json:"ttfb_max_ms"`
	TotalP50  float64        `json:"total_p50_ms"`
	TotalP99  float64        `json:"total_p99_ms"`
	TotalMax  float64        `json:"total_max_ms"`
	Wall      float64        `json:"wall_ms"`
	HeaderTal map[string]int `json:"header_tally,omitempty"`
	FirstErr  string         `json:"first_error,omitempty"`
}

func run(o options) error {
	u, err := url.Parse(o.url)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("bad -url %q: want an http://host:port/path URL", o.url)
	}
	var rounds []roundResult
	failed := false
	for r := 0; r < o.rounds; r++ {
		res, err := oneRound(u.Host, o)
		if err != nil {
			return err
		}
		rounds = append(rounds, res)
		fmt.Printf("%s round %d: n=%d ok=%d err=%d same_body=%v ttfb p50/p99/max %.1f/%.1f/%.1f ms  total p50/p99/max %.1f/%.1f/%.1f ms  wall %.1f ms %v\n",
			o.label, r+1, o.n, res.OK, res.Errors, res.SameBody, res.TTFBp50, res.TTFBp99, res.TTFBmax,
			res.TotalP50, res.TotalP99, res.TotalMax, res.Wall, tallyString(res.HeaderTal))
		if res.FirstErr != "" {
			fmt.Printf("%s round %d: first error: %s\n", o.label, r+1, res.FirstErr)
		}
		if res.Errors > 0 || !res.SameBody {
			failed = true
		}
	}
	out, err := json.Marshal(map[string]any{"label": o.label, "url": o.url, "n": o.n, "rounds": rounds})
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	if failed {
		return errors.New("some requests failed or bodies differ")
	}
	return nil
}

// preDialed dials n connections to addr up front; its DialContext hands them
// out, so that the requests after the barrier do not dial.
type preDialed struct {
	conns chan net.Conn
}

func dialAll(ctx context.Context, addr string, n int) (*preDialed, error) {
	p := &preDialed{conns: make(chan net.Conn, n)}
	d := &net.Dialer{Timeout: 5 * time.Second}
	for i := 0; i < n; i++ {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			p.close()
			return nil, err
		}
		p.conns <- c
	}
	return p, nil
}

func (p *preDialed) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	default:
		return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
	}
}

// close closes the connections nobody took.
func (p *preDialed) close() {
	for {
		select {
		case c := <-p.conns:
			_ = c.Close() // an unused connection: nothing to lose
		default:
			return
		}
	}
}

// oneRound dials n connections, then releases n GETs at once.
func oneRound(addr string, o options) (roundResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	pool, err := dialAll(ctx, addr, o.n)
	if err != nil {
		return roundResult{}, err
	}
	defer pool.close()
	transport := &http.Transport{
		DialContext:         pool.dial,
		MaxIdleConns:        o.n,
		MaxIdleConnsPerHost: o.n,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	start := make(chan struct{})
	samples := make([]sample, o.n)
	var ready, done sync.WaitGroup
	for i := range samples {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			samples[i] = get(ctx, client, o, start, &ready)
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	return summarize(samples, o, time.Since(t0)), nil
}

// get builds the request, waits for the barrier and does the GET.
func get(ctx context.Context, client *http.Client, o options, start <-chan struct{}, ready *sync.WaitGroup) sample {
	var s sample
	var t1 time.Time
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { s.ttfb = time.Since(t1) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, o.url, nil)
	ready.Done()
	if err != nil {
		s.err = err
		return s
	}
	for _, h := range o.headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	<-start
	t1 = time.Now()
	resp, err := client.Do(req)
	if err != nil {
		s.err = err
		return s
	}
	defer resp.Body.Close()
	s.status = resp.StatusCode
	if o.countHdr != "" {
		s.hdr = resp.Header.Get(o.countHdr)
	}
	h := sha256.New()
	s.size, err = io.Copy(h, resp.Body)
	s.total = time.Since(t1)
	s.sha = hex.EncodeToString(h.Sum(nil))
	if err != nil {
		s.err = fmt.Errorf("read body after %d bytes: %w", s.size, err)
	} else if s.status != http.StatusOK {
		s.err = fmt.Errorf("status %d", s.status)
	}
	return s
}

func summarize(samples []sample, o options, wall time.Duration) roundResult {
	res := roundResult{SameBody: true, Wall: ms(wall)}
	var ttfb, total []time.Duration
	for _, s := range samples {
		if o.countHdr != "" {
			if res.HeaderTal == nil {
				res.HeaderTal = map[string]int{}
			}
			res.HeaderTal[s.hdr]++
		}
		if s.err == nil && o.wantSize >= 0 && s.size != o.wantSize {
			s.err = fmt.Errorf("body is %d bytes, want %d", s.size, o.wantSize)
		}
		if s.err != nil {
			res.Errors++
			if res.FirstErr == "" {
				res.FirstErr = s.err.Error()
			}
			continue
		}
		res.OK++
		res.Bytes += s.size
		switch {
		case res.SHA256 == "":
			res.SHA256 = s.sha
		case res.SHA256 != s.sha:
			res.SameBody = false
		}
		ttfb = append(ttfb, s.ttfb)
		total = append(total, s.total)
	}
	if o.wantSHA != "" && res.SHA256 != o.wantSHA {
		res.SameBody = false
	}
	res.TTFBp50, res.TTFBp99, res.TTFBmax = percentiles(ttfb)
	res.TotalP50, res.TotalP99, res.TotalMax = percentiles(total)
	return res
}

// percentiles gives the nearest-rank p50 and p99 and the maximum, in ms.
func percentiles(d []time.Duration) (p50, p99, maxi float64) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(d))+0.999999) - 1 // ceil(p*n) - 1
		return d[max(0, min(i, len(d)-1))]
	}
	return ms(rank(0.50)), ms(rank(0.99)), ms(d[len(d)-1])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func tallyString(t map[string]int) string {
	if t == nil {
		return ""
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%q=%d", k, t[k])
	}
	return "header{" + strings.Join(parts, " ") + "}"
}
