package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestUntilSignalled(t *testing.T) {
	for _, tc := range []struct {
		name string
		// serve stands in for the node; release lets one that ignores
		// its context end when the test does.
		serve    func(ctx context.Context, release <-chan struct{}) error
		signals  []os.Signal
		want     int
		wantLogs []string
		noLogs   []string
	}{
		{
			name:     "a signal drains",
			serve:    func(ctx context.Context, _ <-chan struct{}) error { <-ctx.Done(); return nil },
			signals:  []os.Signal{syscall.SIGTERM},
			want:     0,
			wantLogs: []string{`level=INFO msg="shutting down: draining requests; signal again to exit at once" signal=terminated`, `msg="objstore stopped"`},
			noLogs:   []string{"level=ERROR", "level=WARN"},
		},
		{
			name: "a second signal exits at once",
			serve: func(ctx context.Context, release <-chan struct{}) error {
				<-ctx.Done()
				<-release // a drain that would take long
				return nil
			},
			signals:  []os.Signal{syscall.SIGINT, syscall.SIGINT},
			want:     130,
			wantLogs: []string{`level=WARN msg="second signal: exiting at once, requests in flight are cut off" signal=interrupt`},
			noLogs:   []string{"level=ERROR", `msg="objstore stopped"`},
		},
		{
			name:     "a failure is an error",
			serve:    func(context.Context, <-chan struct{}) error { return errors.New("bind: address already in use") },
			want:     1,
			wantLogs: []string{`level=ERROR msg="objstore stopped" err="bind: address already in use"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			log := slog.New(slog.NewTextHandler(&out, nil))
			signals := make(chan os.Signal, len(tc.signals))
			for _, s := range tc.signals {
				signals <- s
			}
			release := make(chan struct{})
			defer close(release)
			got := untilSignalled(log, signals, func(ctx context.Context) error { return tc.serve(ctx, release) })
			if got != tc.want {
				t.Errorf("exit code %d, want %d", got, tc.want)
			}
			for _, s := range tc.wantLogs {
				if !strings.Contains(out.String(), s) {
					t.Errorf("log lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tc.noLogs {
				if strings.Contains(out.String(), s) {
					t.Errorf("log has %q:\n%s", s, out.String())
				}
			}
		})
	}
}
