// Command objstore runs one node of the objstore near-cache for S3.
//
// main only wires: it reads the configuration, opens the journal, the body
// store and the origin, builds the node and its HTTP servers, and runs them
// until SIGINT or SIGTERM, then drains them in order.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main with its inputs and outputs passed in; it returns the exit code.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "version", "--version", "-version":
			fmt.Fprintln(stdout, buildVersion())
			return 0
		case "serve":
			args = args[1:]
		}
	}
	cfg, err := ParseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) { // -h asks for usage: not a failure
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "objstore: %v\n", err)
		return 2
	}
	log := newLogger(stderr, cfg.Debug)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("objstore stopped", "err", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, debug int) *slog.Logger {
	level := slog.LevelInfo
	if debug > 0 {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
