package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore/internal/node"
)

func TestDurabilityAndDeferFlags(t *testing.T) {
	c, err := ParseConfig(nil, env(nil), io.Discard)
	if err != nil || c.Durability.SmallBodyMax != node.DefaultSmallBodyMax || c.Durability.FsyncEachBody || c.Outbox.MaxDefer != 5*time.Second {
		t.Fatalf("defaults = %+v %+v, %v", c.Durability, c.Outbox, err)
	}
	if got := c.Durability.nodeSmallBodyMax(); got != node.DefaultSmallBodyMax {
		t.Fatalf("node SmallBodyMax = %d", got)
	}
	c, err = ParseConfig([]string{"--small-body-max", "64KiB", "--outbox-max-defer", "0"}, env(nil), io.Discard)
	if err != nil || c.Durability.SmallBodyMax != 64<<10 || c.Outbox.nodeConfig().MaxDefer >= 0 {
		t.Fatalf("flags = %+v %+v, %v; want 64 KiB and no deferral", c.Durability, c.Outbox.nodeConfig(), err)
	}
	c, err = ParseConfig(nil, env(map[string]string{"APP_SMALL_BODY_MAX": "0", "APP_OUTBOX_MAX_DEFER": "2s"}), io.Discard)
	if err != nil || c.Durability.nodeSmallBodyMax() >= 0 || c.Outbox.nodeConfig().MaxDefer != 2*time.Second {
		t.Fatalf("environment = %+v %+v, %v; want small bodies off, 2s", c.Durability, c.Outbox, err)
	}
	c, err = ParseConfig([]string{"--fsync-each-body"}, env(nil), io.Discard)
	if err != nil || !c.Durability.FsyncEachBody || c.Durability.nodeSmallBodyMax() >= 0 {
		t.Fatalf("--fsync-each-body = %+v, %v; want small bodies off too", c.Durability, err)
	}
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--small-body-max", "2MiB"}, "small-body-max"},
		{[]string{"--small-body-max", "-1"}, "small-body-max"},
		{[]string{"--small-body-max", "big"}, "small-body-max"},
		{[]string{"--outbox-max-defer", "-1s"}, "outbox-max-defer"},
		{[]string{"--outbox-max-defer", "2h"}, "outbox-max-defer"},
		{[]string{"--fsync-each-body=maybe"}, "fsync-each-body"},
	} {
		_, err := ParseConfig(c.args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("%v: err = %v, want an error naming --%s", c.args, err, c.flag)
		}
	}
}
