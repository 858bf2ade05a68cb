package peerapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/sigv4"
)

// serveCredentials serves NewCredentialsHandler(key, shared) and records
// the raw answers it writes.
func serveCredentials(tb testing.TB, key []byte, shared SharedCredentials) (objstore.Member, *bytes.Buffer) {
	tb.Helper()
	var raw bytes.Buffer
	h := NewCredentialsHandler(key, func() SharedCredentials { return shared }, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		raw.Write(rec.Body.Bytes())
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes()) // the test reads what arrives
	}))
	tb.Cleanup(srv.Close)
	return objstore.Member{ID: "peer", Addr: strings.TrimPrefix(srv.URL, "http://"), State: "alive"}, &raw
}

func TestCredentialsRoundTrip(t *testing.T) {
	key := CredentialsKey("cluster secret", "t")
	want := SharedCredentials{Generated: []sigv4.Credentials{{AccessKey: "OBJSTOREABC", SecretKey: "s3cr3t-value"}}}
	m, raw := serveCredentials(t, key, want)
	got, err := newClient().Credentials(t.Context(), m, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Generated) != 1 || got.Generated[0] != want.Generated[0] || got.Configured {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	// The secret never crosses the wire in the clear.
	if bytes.Contains(raw.Bytes(), []byte("s3cr3t-value")) || bytes.Contains(raw.Bytes(), []byte("OBJSTOREABC")) {
		t.Fatalf("answer carries the credentials in the clear: %q", raw.Bytes())
	}
}

func TestCredentialsOtherClusterKey(t *testing.T) {
	want := SharedCredentials{Generated: []sigv4.Credentials{{AccessKey: "OBJSTOREABC", SecretKey: "s3cr3t-value"}}}
	m, _ := serveCredentials(t, CredentialsKey("cluster secret", "t"), want)
	got, err := newClient().Credentials(t.Context(), m, CredentialsKey("another secret", "t"))
	if !errors.Is(err, ErrPeer) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrPeer and ErrMalformed", err)
	}
	if len(got.Generated) != 0 {
		t.Fatalf("got credentials %+v under the wrong key", got)
	}
}

func TestCredentialsNoClusterKey(t *testing.T) {
	if CredentialsKey("", "t") != nil {
		t.Fatal("CredentialsKey(\"\") is not nil")
	}
	shared := SharedCredentials{Generated: []sigv4.Credentials{{AccessKey: "OBJSTOREABC", SecretKey: "s3cr3t-value"}}}
	m, _ := serveCredentials(t, nil, shared)
	resp, err := http.Get("http://" + m.Addr + CredentialsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body) // checked below
	if resp.StatusCode != http.StatusForbidden || bytes.Contains(b, []byte("s3cr3t")) {
		t.Fatalf("got %s %q, want 403 without the secret", resp.Status, b)
	}
	if _, err := newClient().Credentials(t.Context(), m, CredentialsKey("k", "t")); !errors.Is(err, ErrPeer) {
		t.Fatalf("err = %v, want ErrPeer", err)
	}
}

func TestCredentialsConfigured(t *testing.T) {
	key := CredentialsKey("k", "t")
	m, _ := serveCredentials(t, key, SharedCredentials{Configured: true})
	got, err := newClient().Credentials(t.Context(), m, key)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Configured || len(got.Generated) != 0 {
		t.Fatalf("got %+v, want configured and no keys", got)
	}
}

func TestCredentialsTampered(t *testing.T) {
	key := CredentialsKey("k", "t")
	sealed, err := seal(key, []byte(`{"generated":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		if _, err := open(key, b); !errors.Is(err, ErrMalformed) {
			t.Fatalf("byte %d flipped: err = %v, want ErrMalformed", i, err)
		}
	}
	if _, err := open(key, sealed[:5]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short body: err = %v, want ErrMalformed", err)
	}
}
