package integration

import (
	"errors"
	"strings"
	"testing"
)

// TestHealthlogsBadLogFormat starts the real binary with a log format it
// does not know, from the flag and from the environment: it exits with
// status 2 before it is ready, naming the option and the formats it takes.
func TestHealthlogsBadLogFormat(t *testing.T) {
	o := newOrigin(t)
	for _, tc := range []struct {
		name, want string
		opts       NodeOpts
	}{
		{"flag", `--log-format "xml": want text or json`, NodeOpts{Args: []string{"--log-format", "xml"}}},
		{"environment", `--log-format "yaml": want text or json`, NodeOpts{Env: []string{"APP_LOG_FORMAT=yaml"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.S3, opts.Bucket = o.S3Server, o.Bucket
			n := newNode(t, opts)
			err := n.launch()
			if !errors.Is(err, errExited) || !strings.Contains(err.Error(), "exit status 2") {
				t.Fatalf("start with a bad log format: %v, want an exit with status 2 before it is ready", err)
			}
			if out := n.log.String(); !strings.Contains(out, tc.want) {
				t.Errorf("output %q: want %q", out, tc.want)
			}
		})
	}
}
