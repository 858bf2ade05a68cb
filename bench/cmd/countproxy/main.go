// Command countproxy is a counting reverse proxy for the benchmarks: it
// forwards every request to one upstream (an S3-compatible server) as it is,
// streaming both ways, and counts the requests by method and path.
//
// The counts are served as plain text on a second, admin address:
//
//	GET /count?method=GET&path=/bucket/key   requests with that method and exact path
//	GET /count?method=GET&prefix=/bucket/    requests with that method and a path prefix
//	GET /counts                              every method+path count, one per line
//
// The client's Host header is kept, because it is part of an S3 SigV4
// signature. On SIGTERM or SIGINT the proxy prints the per-method totals to
// stderr and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "proxy address")
	admin := flag.String("admin", "127.0.0.1:0", "address serving the counts")
	upstream := flag.String("upstream", "", "upstream base URL, e.g. http://127.0.0.1:7070")
	flag.Parse()
	if err := run(*listen, *admin, *upstream); err != nil {
		log.Fatalf("countproxy: %v", err)
	}
}

func run(listen, admin, upstream string) error {
	target, err := url.Parse(upstream)
	if err != nil || target.Host == "" {
		return fmt.Errorf("bad -upstream %q", upstream)
	}
	c := &counter{m: map[countKey]int{}}
	proxy := &http.Server{Handler: c.wrap(newProxy(target)), ReadHeaderTimeout: 30 * time.Second}
	adminSrv := &http.Server{Handler: c.adminHandler(), ReadHeaderTimeout: 30 * time.Second}

	pln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	aln, err := net.Listen("tcp", admin)
	if err != nil {
		return err
	}
	// The addresses actually bound, for a caller that asked for port 0.
	fmt.Printf("proxy %s\nadmin %s\n", pln.Addr(), aln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serve(proxy, pln) })
	g.Go(func() error { return serve(adminSrv, aln) })
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return errors.Join(proxy.Shutdown(sctx), adminSrv.Shutdown(sctx))
	})
	err = g.Wait()
	fmt.Fprint(os.Stderr, c.totals())
	return err
}

func serve(s *http.Server, ln net.Listener) error {
	if err := s.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newProxy(target *url.URL) *httputil.ReverseProxy {
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // part of the SigV4 signature
		},
		Transport:     transport,
		FlushInterval: -1, // stream: never hold bytes back
	}
}

type countKey struct{ method, path string }

// counter counts requests by method and path.
type counter struct {
	mu sync.Mutex // guards m
	m  map[countKey]int
}

func (c *counter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.m[countKey{r.Method, r.URL.Path}]++
		c.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// count sums the requests of method whose path is path, or starts with
// prefix when path is empty.
func (c *counter) count(method, path, prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.m {
		if k.method != method {
			continue
		}
		if (path != "" && k.path == path) || (path == "" && strings.HasPrefix(k.path, prefix)) {
			n += v
		}
	}
	return n
}

func (c *counter) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		n := c.count(q.Get("method"), q.Get("path"), q.Get("prefix"))
		_, _ = io.WriteString(w, strconv.Itoa(n)+"\n") // a failed write only loses the answer
	})
	mux.HandleFunc("GET /counts", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, c.lines()) // as above
	})
	return mux
}

// lines lists every method and path with its count, sorted.
func (c *counter) lines() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.m))
	for k, v := range c.m {
		out = append(out, fmt.Sprintf("%s %s %d\n", k.method, k.path, v))
	}
	sort.Strings(out)
	return strings.Join(out, "")
}

// totals sums the counts by method.
func (c *counter) totals() string {
	c.mu.Lock()
	byMethod := map[string]int{}
	for k, v := range c.m {
		byMethod[k.method] += v
	}
	c.mu.Unlock()
	methods := make([]string, 0, len(byMethod))
	for m := range byMethod {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	var b strings.Builder
	for _, m := range methods {
		fmt.Fprintf(&b, "countproxy: %s %d\n", m, byMethod[m])
	}
	return b.String()
}
