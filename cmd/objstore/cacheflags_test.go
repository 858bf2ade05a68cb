package main

import (
	"io"
	"strings"
	"testing"

	"sphere.software/objstore/internal/evict"
)

func TestCacheFlags(t *testing.T) {
	c, err := ParseConfig([]string{"--disk-quota", "1G", "--cache-policy", "lru", "--cache-admission", "second-miss",
		"--cache-max-object-fraction", "0.5"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := c.Cache.nodeConfig(c.DiskQuota, c.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	p := cc.Policy
	if cc.Capacity != 1<<30 || p.Mode != evict.ModeLRU || !p.SecondMiss || p.MaxObjectFraction != 0.5 || cc.HighWatermark != 0 {
		t.Fatalf("cache config %+v", cc)
	}
	c, err = ParseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cc, _ = c.Cache.nodeConfig(c.DiskQuota, c.StateDir); cc.HighWatermark != 0.9 || cc.LowWatermark != 0.85 || cc.Capacity != 0 {
		t.Fatalf("default cache config %+v, want the 90/85 %% watermarks", cc)
	}
	for _, tc := range []struct{ args []string }{
		{[]string{"--cache-policy", "arc"}},
		{[]string{"--cache-admission", "never"}},
		{[]string{"--cache-max-object-fraction", "1.5"}},
		{[]string{"--disk-high-watermark", "0.8", "--disk-low-watermark", "0.9"}},
	} {
		if _, err := ParseConfig(tc.args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), tc.args[0]) {
			t.Errorf("%v: err %v, want it to name %s", tc.args, err, tc.args[0])
		}
	}
}
