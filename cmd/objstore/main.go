// Command objstore runs one node of the objstore near-cache for S3.
//
// main only wires: it reads the configuration, opens the journal, the body
// store and the origin, builds the node and its HTTP servers, and runs them
// until SIGINT or SIGTERM, then drains them in order. A second signal
// during the drain exits at once.
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

	"sphere.software/objstore/internal/clusterkey"
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
		case "keygen": // a new --cluster-key: 256 random bits, base64
			fmt.Fprintln(stdout, clusterkey.Generate())
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
	log := newLogger(stderr, cfg.Ops.LogFormat, cfg.Debug)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	return untilSignalled(log, signals, func(ctx context.Context) error { return serve(ctx, cfg, log) })
}

// untilSignalled runs serve until it returns and gives the exit code. The
// first signal ends serve's context, and serve drains; a second one, for
// an operator who will not wait for the drain, returns at once with
// 128+signal (as a shell reports a process killed by it), and main exits
// without waiting for serve.
func untilSignalled(log *slog.Logger, signals <-chan os.Signal, serve func(context.Context) error) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	select {
	case err := <-done:
		return exitCode(log, err)
	case sig := <-signals:
		log.Info("shutting down: draining requests; signal again to exit at once", "signal", sig.String())
		cancel()
	}
	select {
	case err := <-done:
		return exitCode(log, err)
	case sig := <-signals:
		log.Warn("second signal: exiting at once, requests in flight are cut off", "signal", sig.String())
		if s, ok := sig.(syscall.Signal); ok {
			return 128 + int(s)
		}
		return 1
	}
}

// exitCode logs why serve failed, if it did, and gives the exit code.
func exitCode(log *slog.Logger, err error) int {
	if err != nil {
		log.Error("objstore stopped", "err", err)
		return 1
	}
	log.Info("objstore stopped")
	return 0
}
