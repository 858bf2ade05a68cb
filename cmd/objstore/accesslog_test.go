package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenAccessLog(t *testing.T) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello") })
	get := func(t *testing.T, h http.Handler) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/ping", nil))
		if rec.Code != http.StatusOK || rec.Body.String() != "hello" {
			t.Fatalf("GET: %d %q", rec.Code, rec.Body)
		}
	}
	const line = "level=INFO msg=access api=native remote=192.0.2.1:1234 method=GET path=/api/v1/ping status=200 bytes=5 duration="

	for _, spec := range []string{"off", ""} {
		var nodeLog bytes.Buffer
		a, err := openAccessLog(spec, "text", slog.New(slog.NewTextHandler(&nodeLog, nil)))
		if err != nil || a != nil {
			t.Fatalf("openAccessLog(%q) = %v, %v; want nil, nil", spec, a, err)
		}
		get(t, a.Handler("native", hello))
		if a.Fast("native") != nil || a.Close() != nil || nodeLog.Len() != 0 {
			t.Errorf("access log %q: a hook, a close error or a line %q", spec, nodeLog.String())
		}
	}

	var nodeLog bytes.Buffer
	a, err := openAccessLog("on", "text", slog.New(slog.NewTextHandler(&nodeLog, nil)))
	if err != nil {
		t.Fatal(err)
	}
	get(t, a.Handler("native", hello))
	if !strings.Contains(nodeLog.String(), line) || a.Fast("native") == nil {
		t.Errorf("access log on: node log %q lacks %q, or no fast hook", nodeLog.String(), line)
	}
	if err := a.Close(); err != nil {
		t.Error(err)
	}

	path := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(path, []byte("an earlier line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nodeLog.Reset()
	a, err = openAccessLog(path, "text", slog.New(slog.NewTextHandler(&nodeLog, nil)))
	if err != nil {
		t.Fatal(err)
	}
	get(t, a.Handler("native", hello))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "an earlier line\n") || !strings.Contains(string(b), line) || nodeLog.Len() != 0 {
		t.Errorf("access log file: %q (want the earlier line, then %q); node log %q", b, line, nodeLog.String())
	}

	if _, err := openAccessLog(filepath.Join(t.TempDir(), "no", "such", "dir"), "text", slog.Default()); err == nil || !strings.Contains(err.Error(), "--access-log") {
		t.Errorf("access log in a missing directory: %v, want an error naming --access-log", err)
	}
}
