package requestid

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestNewIsShortHexAndUnique(t *testing.T) {
	const workers, each = 4, 5000
	var mu sync.Mutex // guards seen
	seen := make(map[string]bool, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			ids := make([]string, each)
			for i := range ids {
				ids[i] = New()
			}
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				if seen[id] {
					t.Errorf("id %s made twice", id)
				}
				seen[id] = true
			}
		})
	}
	wg.Wait()
	for id := range seen {
		if len(id) != 16 || strings.Trim(id, hexDigits) != "" {
			t.Fatalf("id %q: want 16 upper-case hex digits", id)
		}
		if id[:8] != string(prefix[:]) {
			t.Fatalf("id %q: want the process prefix %s", id, prefix)
		}
	}
}

func TestAppendGrowsPastTheCounterWidth(t *testing.T) {
	saved := counter.Load()
	t.Cleanup(func() { counter.Store(saved) })
	counter.Store(1<<32 - 1)
	id := string(Append(nil)) // counter 1<<32: nine digits
	if want := string(prefix[:]) + "100000000"; id != want {
		t.Fatalf("id %q, want %q", id, want)
	}
}

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"4442587FB7D0A2F9", true},
		{"3f1c2a7e-5b2d-4c8e-9a1f-0e6d7c5b4a39", true},
		{"Root=1-5759e988-bd862e3fe1be46a994272793", true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},
		{"a", true},
		{"", false},
		{strings.Repeat("a", MaxLen), true},
		{strings.Repeat("a", MaxLen+1), false},
		{"has space", false},
		{"quote\"", false},
		{"new\nline", false},
		{"<xml>", false},
		{"é", false},
	} {
		if got := Valid(tc.id); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.id, got, tc.want)
		}
		if got := Valid([]byte(tc.id)); got != tc.want {
			t.Errorf("Valid([]byte(%q)) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestMiddleware(t *testing.T) {
	for _, tc := range []struct {
		name, sent string
		keep       bool
	}{
		{"none sent", "", false},
		{"sane one kept", "client-42.a:b", true},
		{"bad one replaced", "two words", false},
		{"long one replaced", strings.Repeat("x", MaxLen+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inCtx string
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inCtx = From(r.Context())
				http.Error(w, "nope", http.StatusTeapot)
			}))
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tc.sent != "" {
				req.Header.Set(Header, tc.sent)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get(Header)
			if got == "" || got != inCtx {
				t.Fatalf("header %q, context %q: want the same non-empty id", got, inCtx)
			}
			if tc.keep != (got == tc.sent) {
				t.Fatalf("sent %q, got %q: keep=%v", tc.sent, got, tc.keep)
			}
			if !tc.keep && len(got) != 16 {
				t.Fatalf("generated id %q: want 16 digits", got)
			}
		})
	}
}

func TestHandlerAddsTheIDOfTheContext(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil))).With("part", "api")
	ctx := With(context.Background(), "REQ-1")
	log.WarnContext(ctx, "request failed", "status", 502)
	log.Info("no request")
	log.WithGroup("g").InfoContext(ctx, "grouped", "k", "v")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %q", buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first[Attr] != "REQ-1" || first["part"] != "api" || first["status"] != float64(502) {
		t.Fatalf("first line %v: want request_id REQ-1 beside part and status", first)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if _, ok := second[Attr]; ok {
		t.Fatalf("second line %v: no request, no request_id", second)
	}
	if !strings.Contains(lines[2], `"REQ-1"`) {
		t.Fatalf("grouped line %s: want the id", lines[2])
	}
}

func BenchmarkAppend(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var buf [24]byte
		for pb.Next() {
			_ = Append(buf[:0])
		}
	})
}
