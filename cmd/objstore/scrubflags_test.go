package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestScrubFlags(t *testing.T) {
	c, err := ParseConfig(nil, env(nil), io.Discard)
	if err != nil || c.Scrub.Period != 168*time.Hour || c.Scrub.Rate != 16<<20 {
		t.Fatalf("defaults = %+v, %v; want 168h at 16 MiB/s", c.Scrub, err)
	}
	c, err = ParseConfig([]string{"--scrub-period", "1h", "--scrub-rate", "64MiB/s"}, env(nil), io.Discard)
	if err != nil || c.Scrub.Period != time.Hour || c.Scrub.Rate != 64<<20 {
		t.Fatalf("flags = %+v, %v", c.Scrub, err)
	}
	c, err = ParseConfig(nil, env(map[string]string{"APP_SCRUB_PERIOD": "0", "APP_SCRUB_RATE": "0"}), io.Discard)
	if err != nil || c.Scrub.Period != 0 {
		t.Fatalf("off from the environment = %+v, %v", c.Scrub, err)
	}
	for _, args := range [][]string{
		{"--scrub-period", "-1h"},
		{"--scrub-period", "10ms"},
		{"--scrub-rate", "0"},
		{"--scrub-rate", "fast"},
		{"--scrub-rate", "-5M"},
	} {
		_, err := ParseConfig(args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "scrub") {
			t.Errorf("%v: err = %v, want an error naming the flag", args, err)
		}
	}
}
