package cluster

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := Config{NodeID: "a", BindAddr: "0.0.0.0:11999"}
	tests := []struct {
		name string
		edit func(*Config)
		err  string // "" = valid
	}{
		{name: "minimal", edit: func(*Config) {}},
		{name: "all fields", edit: func(c *Config) {
			c.AdvertiseAddr, c.Join, c.Tag, c.Key = "node1.example:11999", []string{"h1", "h2:1", "10.0.0.1", "[::1]:5", "::1"}, "blue", "k"
		}},
		{name: "empty host", edit: func(c *Config) { c.BindAddr = ":11999" }},
		{name: "no node id", edit: func(c *Config) { c.NodeID = "" }, err: "node id is required"},
		{name: "bind without port", edit: func(c *Config) { c.BindAddr = "127.0.0.1" }, err: "private address"},
		{name: "bind host name", edit: func(c *Config) { c.BindAddr = "localhost:1" }, err: "must be an IP"},
		{name: "bind bad port", edit: func(c *Config) { c.BindAddr = "127.0.0.1:70000" }, err: "bad port"},
		{name: "advertise unspecified", edit: func(c *Config) { c.AdvertiseAddr = "0.0.0.0:1" }, err: "needs a host"},
		{name: "advertise bad port", edit: func(c *Config) { c.AdvertiseAddr = "h:x" }, err: "bad port"},
		{name: "join empty", edit: func(c *Config) { c.Join = []string{" "} }, err: "empty join address"},
		{name: "join bad port", edit: func(c *Config) { c.Join = []string{"h:0"} }, err: "want host or host:port"},
		{name: "tag too long", edit: func(c *Config) { c.Tag = strings.Repeat("t", maxTagLen+1) }, err: "tag is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if tt.err == "" && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Validate: %v, want %q", err, tt.err)
			}
		})
	}
}

func TestNormalizeJoin(t *testing.T) {
	for in, want := range map[string]string{
		"h":            "h:11999",
		"h:1":          "h:1",
		"10.0.0.1":     "10.0.0.1:11999",
		"::1":          "[::1]:11999",
		"[::1]":        "[::1]:11999",
		"[::1]:7":      "[::1]:7",
		" 10.0.0.1:2 ": "10.0.0.1:2",
	} {
		if got, err := normalizeJoin(in); err != nil || got != want {
			t.Errorf("normalizeJoin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestGossipKey(t *testing.T) {
	if gossipKey("", "t") != nil {
		t.Error("key derived from no key")
	}
	g := gossipKey("k", "t")
	if len(g) != 32 || string(g) == "k" || string(g) == string(gossipKey("k2", "t")) || string(g) == string(gossipKey("k", "t2")) {
		t.Error("the gossip key must be 32 bytes derived from the cluster key and tag")
	}
	if string(gossipKey("k", "")) != string(gossipKey("k", DefaultTag)) {
		t.Error("the empty tag must derive as the default tag")
	}
}

func TestLabel(t *testing.T) {
	if got := (Config{}).label(); got != "objstore/default" {
		t.Errorf("empty tag: %q", got)
	}
	if got := (Config{Tag: "blue"}).label(); got != "objstore/blue" {
		t.Errorf("tag blue: %q", got)
	}
}

// TestUnspecifiedBind checks that a node bound to every interface
// advertises a concrete address with its port.
func TestUnspecifiedBind(t *testing.T) {
	c, err := Start(context.Background(), Config{NodeID: "any", BindAddr: "0.0.0.0:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	host, _, err := net.SplitHostPort(c.Addr())
	if ip := net.ParseIP(host); err != nil || ip == nil || ip.IsUnspecified() {
		t.Errorf("advertised %q", c.Addr())
	}
	if ms := c.Members(); len(ms) != 1 || !ms[0].Self || ms[0].Addr != c.Addr() {
		t.Errorf("members %+v", ms)
	}
}

func TestAdvertiseAddr(t *testing.T) {
	c, err := Start(context.Background(), Config{NodeID: "adv", BindAddr: "127.0.0.1:0", AdvertiseAddr: "127.0.0.1:4444"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if c.Addr() != "127.0.0.1:4444" {
		t.Errorf("advertised %q", c.Addr())
	}
}
