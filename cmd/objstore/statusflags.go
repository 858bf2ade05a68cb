package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"sphere.software/objstore/internal/savings"
	"sphere.software/objstore/internal/statuspage"
)

// StatusFlags are the options of the status page (internal/statuspage).
type StatusFlags struct {
	Interval time.Duration // --status-interval ($APP_STATUS_INTERVAL): time between two samples of its history
}

func defaultStatusFlags() StatusFlags { return StatusFlags{Interval: statuspage.DefaultInterval} }

func (s *StatusFlags) register(fs *flag.FlagSet, env map[string]string) {
	durationFlag(fs, &s.Interval, "status-interval", fmt.Sprintf("how often the status page (/status) samples the node's read counters; it draws the last %d samples", statuspage.DefaultSamples), env, "APP_STATUS_INTERVAL")
}

func (s StatusFlags) validate() error {
	if s.Interval < 100*time.Millisecond || s.Interval > time.Hour {
		return fmt.Errorf("--status-interval %s: want between 100ms and 1h", s.Interval)
	}
	return nil
}

// startStatus starts the status page's sampler of src; the caller closes it.
func startStatus(ctx context.Context, s StatusFlags, prices savings.Prices, src statuspage.Source, log *slog.Logger) (*statuspage.Sampler, error) {
	sm, err := statuspage.NewSampler(statuspage.Config{Interval: s.Interval, Prices: prices, Logger: log}, src)
	if err != nil {
		return nil, err
	}
	sm.Start(ctx)
	return sm, nil
}
