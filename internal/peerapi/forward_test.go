package peerapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sphere.software/objstore"
)

// TestForwardRoundTrip sends a client's request through Forward, signed
// with a cluster key, and checks that Forwarded hands the receiving
// handler the request as the client sent it, body streamed.
func TestForwardRoundTrip(t *testing.T) {
	type seen struct{ method, path, rawPath, query, host, auth, body, private string }
	got := make(chan seen, 1)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Host, r.Header.Get("Authorization"), string(b), r.Header.Get(HeaderNode)}
		w.Header().Set("Connection", "close")
		w.Header().Set("ETag", `"e"`)
		w.WriteHeader(http.StatusCreated)
	})
	mux := http.NewServeMux()
	mux.Handle(ForwardPrefix+"/", Forwarded(next))
	srv := httptest.NewServer(Authenticate("k", "t", "n2", mux, nil))
	defer srv.Close()
	hc := NewHTTPClient(HTTPConfig{NodeID: "n1", ClusterKey: "k", Tag: "t"})
	defer hc.CloseIdleConnections()

	in := httptest.NewRequest(http.MethodPut, "http://s3.example/b/a%2Fb%20c?partNumber=2&uploadId=n2-x", strings.NewReader("part body"))
	in.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=…")
	m := objstore.Member{ID: "n2", Addr: strings.TrimPrefix(srv.URL, "http://"), State: "alive"}
	resp, err := NewForwarder(hc).Forward(t.Context(), m, in)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("ETag") != `"e"` || resp.Header.Get("Connection") != "" {
		t.Errorf("answer %s %v, want 201 with the ETag and no hop-by-hop header", resp.Status, resp.Header)
	}
	want := seen{http.MethodPut, "/b/a/b c", "/b/a%2Fb%20c", "partNumber=2&uploadId=n2-x", "s3.example", "AWS4-HMAC-SHA256 Credential=…", "part body", ""}
	if s := <-got; s != want {
		t.Errorf("the handler saw %+v, want %+v", s, want)
	}
	if in.Header.Get("Authorization") == "" || in.Header.Get(headerForwardAuth) != "" {
		t.Error("Forward changed the caller's request")
	}
}

func TestForwardedRejectsOtherPaths(t *testing.T) {
	h := Forwarded(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("served a path outside the prefix") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, ForwardPrefix+"x/b", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("status %d, want 404", w.Code)
	}
}
