package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
)

// MetricsFlags are the options of the Prometheus metrics (internal/metrics).
type MetricsFlags struct {
	On   bool   // --metrics ($APP_METRICS): serve /metrics and count requests; false = neither
	Addr string // --metrics-addr ($NET_METRICS_ADDR): /metrics on a listener of its own; empty = on the public port
}

func defaultMetricsFlags() MetricsFlags { return MetricsFlags{On: true} }

func (m *MetricsFlags) register(fs *flag.FlagSet, env map[string]string) {
	boolFlag(fs, &m.On, "metrics", "serve Prometheus metrics at /metrics and count every request for them; false = no metrics and no counting", env, "APP_METRICS")
	str := func(p *string, name, envName, help string) {
		fs.StringVar(p, name, *p, help)
		env[name] = envName
	}
	str(&m.Addr, "metrics-addr", "NET_METRICS_ADDR", "listen address for /metrics alone (then not on the public port); empty = /metrics on the public port")
}

func (m MetricsFlags) validate() error {
	if m.Addr == "" {
		return nil
	}
	if !m.On {
		return errors.New("--metrics-addr is set but --metrics is false: drop one")
	}
	if _, _, err := net.SplitHostPort(m.Addr); err != nil {
		return fmt.Errorf("--metrics-addr %q: want host:port: %w", m.Addr, err)
	}
	return nil
}
