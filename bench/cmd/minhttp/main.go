// Command minhttp is the floor of Go's net/http for the hot-GET benchmark:
// it answers every GET or HEAD, whatever the path, with one body held in
// memory, with Content-Length and Content-Type and nothing else. No
// routing, no journal, no file: what is left is the cost of net/http
// itself on this machine, beside nginx and objstore.
//
// It prints the address it bound ("listen 127.0.0.1:PORT") on stdout and
// exits on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	file := flag.String("file", "", "file whose bytes are the body (read once at start)")
	ctype := flag.String("type", "application/octet-stream", "Content-Type of the answers")
	flag.Parse()
	if err := run(*listen, *file, *ctype); err != nil {
		log.Fatalf("minhttp: %v", err)
	}
}

func run(listen, file, ctype string) error {
	if file == "" {
		return errors.New("-file is required")
	}
	body, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Printf("listen %s\n", ln.Addr())
	srv := &http.Server{Handler: handler(body, ctype), ReadHeaderTimeout: 30 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return <-done
}

// handler answers with body; the header values are made once and shared,
// as objstore's in-memory path does.
func handler(body []byte, ctype string) http.Handler {
	length := []string{strconv.Itoa(len(body))}
	typ := []string{ctype}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h["Content-Length"] = length
		h["Content-Type"] = typ
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body) // a failed write means the client left
		}
	})
}
