package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestStatusFlags(t *testing.T) {
	c, err := ParseConfig(nil, env(nil), io.Discard)
	if err != nil || c.Status.Interval != 5*time.Second {
		t.Fatalf("default = %+v, %v; want a sample every 5s", c.Status, err)
	}
	c, err = ParseConfig([]string{"--status-interval", "250ms"}, env(map[string]string{"APP_STATUS_INTERVAL": "1m"}), io.Discard)
	if err != nil || c.Status.Interval != 250*time.Millisecond {
		t.Fatalf("flag over env = %+v, %v", c.Status, err)
	}
	c, err = ParseConfig(nil, env(map[string]string{"APP_STATUS_INTERVAL": "1m"}), io.Discard)
	if err != nil || c.Status.Interval != time.Minute {
		t.Fatalf("env = %+v, %v", c.Status, err)
	}
	for _, v := range []string{"0", "-1s", "10ms", "2h", "often"} {
		_, err := ParseConfig([]string{"--status-interval", v}, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "status-interval") {
			t.Errorf("--status-interval %s: err = %v, want an error naming the flag", v, err)
		}
	}
}
