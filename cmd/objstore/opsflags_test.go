package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sphere.software/objstore/internal/requestid"
)

func TestLogFormatFlag(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // the format parsed, or "" for an error
	}{
		{"default", nil, nil, "text"},
		{"json", []string{"--log-format", "json"}, nil, "json"},
		{"text", []string{"--log-format=text"}, nil, "text"},
		{"env", nil, map[string]string{"APP_LOG_FORMAT": "json"}, "json"},
		{"flag beats env", []string{"--log-format", "text"}, map[string]string{"APP_LOG_FORMAT": "json"}, "text"},
		{"bad", []string{"--log-format", "xml"}, nil, ""},
		{"case matters", []string{"--log-format", "JSON"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := noEnv
			if tc.env != nil {
				getenv = func(k string) string { return tc.env[k] }
			}
			cfg, err := ParseConfig(tc.args, getenv, &bytes.Buffer{})
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "--log-format") || !strings.Contains(err.Error(), "want text or json") {
					t.Fatalf("err %v: want one naming --log-format and its values", err)
				}
				return
			}
			if err != nil || cfg.Ops.LogFormat != tc.want {
				t.Fatalf("format %q, err %v; want %q", cfg.Ops.LogFormat, err, tc.want)
			}
		})
	}
}

func TestBadLogFormatExitsTwo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"--log-format", "yaml"}, func(string) string { return "" }, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), `objstore: --log-format "yaml": want text or json`) {
		t.Fatalf("exit %d, stderr %q: want 2 and the reason", code, stderr.String())
	}
}

func TestNewLoggerFormats(t *testing.T) {
	ctx := requestid.With(context.Background(), "REQ-7")
	var js bytes.Buffer
	newLogger(&js, "json", 0).With("part", "api").WarnContext(ctx, "request failed", "status", 502)
	var rec map[string]any
	if err := json.Unmarshal(js.Bytes(), &rec); err != nil {
		t.Fatalf("json line %q: %v", js.String(), err)
	}
	if rec["level"] != "WARN" || rec["msg"] != "request failed" || rec["part"] != "api" || rec[requestid.Attr] != "REQ-7" {
		t.Fatalf("json line %v: want level, msg, part and request_id", rec)
	}

	var txt bytes.Buffer
	log := newLogger(&txt, "text", 0)
	log.InfoContext(ctx, "hello")
	log.Debug("hidden at level 0")
	if got := txt.String(); !strings.Contains(got, "level=INFO msg=hello request_id=REQ-7") || strings.Contains(got, "hidden") {
		t.Fatalf("text log %q", got)
	}
	txt.Reset()
	newLogger(&txt, "text", 1).Debug("shown at level 1")
	if !strings.Contains(txt.String(), "level=DEBUG") {
		t.Fatalf("debug log %q", txt.String())
	}
}

func TestAccessLogFileInJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	a, err := openAccessLog(path, "json", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := requestid.Middleware(a.Handler("native", http.NotFoundHandler()))
	req := httptest.NewRequest(http.MethodGet, "/nope", nil)
	req.Header.Set(requestid.Header, "abc-123")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("access line %q: %v", b, err)
	}
	if rec["msg"] != "access" || rec["status"] != float64(404) || rec[requestid.Attr] != "abc-123" {
		t.Fatalf("access line %v: want msg access, status 404, request_id abc-123", rec)
	}
}
