package health

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func fixed(s Status, detail string) func(context.Context) Result {
	return func(context.Context) Result { return Result{Status: s, Detail: detail} }
}

func serve(t *testing.T, h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestReadiness(t *testing.T) {
	for _, tc := range []struct {
		name   string
		checks []Check
		status int
		text   string
	}{
		{"all ok", []Check{{"journal", fixed(OK, "")}, {"origin", fixed(OK, "s3 bucket b")}}, 200,
			"ready\njournal: ok\norigin: ok: s3 bucket b\n"},
		{"degraded", []Check{{"journal", fixed(OK, "")}, {"origin", fixed(Degraded, "unreachable\nsince 1m")}}, 200,
			"degraded: origin\njournal: ok\norigin: degraded: unreachable since 1m\n"},
		{"one fails", []Check{{"cluster", fixed(Fail, "not joined")}, {"origin", fixed(Degraded, "unreachable")}}, 503,
			"not ready: cluster\ncluster: fail: not joined\norigin: degraded: unreachable\n"},
		{"two fail", []Check{{"cluster", fixed(Fail, "a")}, {"origin", fixed(Fail, "b")}}, 503,
			"not ready: cluster, origin\ncluster: fail: a\norigin: fail: b\n"},
		{"no checks", nil, 200, "ready\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := New(tc.checks...)
			rec := serve(t, h, "GET", ReadyPath, nil)
			if rec.Code != tc.status || rec.Body.String() != tc.text {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, tc.status, tc.text)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("headers %v", rec.Header())
			}
			for _, ask := range []struct {
				target string
				header map[string]string
			}{{ReadyPath + "?format=json", nil}, {ReadyPath, map[string]string{"Accept": "application/json, */*"}}} {
				rec := serve(t, h, "GET", ask.target, ask.header)
				var rep Report
				if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil || rec.Code != tc.status {
					t.Fatalf("%s %v: %d %q: %v", ask.target, ask.header, rec.Code, rec.Body, err)
				}
				if len(rep.Checks) != len(tc.checks) || rep.Text() != tc.text {
					t.Fatalf("json report %+v does not say what the text does", rep)
				}
			}
		})
	}
}

func TestLiveness(t *testing.T) {
	h := New(Check{"origin", fixed(Fail, "down")}) // readiness does not touch liveness
	rec := serve(t, h, "GET", LivePath, nil)
	if rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Fatalf("healthz: %d %q", rec.Code, rec.Body)
	}
	rec = serve(t, h, "GET", LivePath+"?format=json", nil)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
		t.Fatalf("healthz json: %d %q", rec.Code, rec.Body)
	}
	rec = serve(t, h, "HEAD", LivePath, nil)
	if rec.Code != 200 {
		t.Fatalf("HEAD healthz: %d", rec.Code)
	}
	rec = serve(t, h, "POST", ReadyPath, nil)
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST readyz: %d %v", rec.Code, rec.Header())
	}
}

func TestWrapPassesTheRestOn(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "api", http.StatusTeapot) })
	h := New().Wrap(next)
	for path, want := range map[string]int{LivePath: 200, ReadyPath: 200, "/api/v1/ping": 418, "/healthz/x": 418, "/": 418} {
		if rec := serve(t, h, "GET", path, nil); rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
	}
}

func TestChecksGetABoundedContext(t *testing.T) {
	var deadline bool
	h := New(Check{"x", func(ctx context.Context) Result {
		_, deadline = ctx.Deadline()
		return Result{Status: OK}
	}})
	h.Ready(context.Background())
	if !deadline {
		t.Fatal("a check ran without a deadline")
	}
}
