package main

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"sphere.software/objstore/internal/node"
)

// ScrubFlags are the options of the background scrubber (node/scrub.go).
type ScrubFlags struct {
	Period time.Duration // --scrub-period ($APP_SCRUB_PERIOD): a pass over every body this often; 0 = off
	Rate   int64         // --scrub-rate ($APP_SCRUB_RATE): bytes read per second at most
}

func defaultScrubFlags() ScrubFlags {
	return ScrubFlags{Period: node.DefaultScrubPeriod, Rate: node.DefaultScrubRate}
}

func (s *ScrubFlags) register(fs *flag.FlagSet, env map[string]string) {
	durationFlag(fs, &s.Period, "scrub-period", "re-read every body on disk against its checksum once per this period, repairing what rotted; 0 = off", env, "APP_SCRUB_PERIOD")
	fs.Func("scrub-rate", "most bytes per second the scrubber reads, e.g. 16MiB/s (default 16MiB/s)", func(v string) error {
		r, err := parseSize(strings.TrimSuffix(strings.TrimSpace(v), "/s"))
		s.Rate = r
		return err
	})
	env["scrub-rate"] = "APP_SCRUB_RATE"
}

func (s ScrubFlags) validate() error {
	switch {
	case s.Period < 0:
		return fmt.Errorf("--scrub-period %s: want a positive duration, or 0 to turn the scrubber off", s.Period)
	case s.Period > 0 && s.Period < time.Second:
		return fmt.Errorf("--scrub-period %s: want at least 1s, or 0 to turn the scrubber off", s.Period)
	case s.Period > 0 && s.Rate <= 0:
		return fmt.Errorf("--scrub-rate %d: want a positive rate such as 16MiB/s (turn the scrubber off with --scrub-period 0)", s.Rate)
	}
	return nil
}

// nodeConfig is the node's ScrubConfig, keeping its place in stateDir.
func (s ScrubFlags) nodeConfig(stateDir string) node.ScrubConfig {
	return node.ScrubConfig{Period: s.Period, Rate: s.Rate, StateFile: filepath.Join(stateDir, "scrub.state")}
}
