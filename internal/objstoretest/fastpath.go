package objstoretest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"sphere.software/objstore/internal/fastpath"
)

// FastAPI is an API with a fast path: its net/http handler and its
// Answerer.
type FastAPI interface {
	http.Handler
	fastpath.Answerer
}

// ServeFast serves api as objstore does: the fast path takes the
// connections and hands net/http those it does not serve. Both stop when
// the test ends.
func ServeFast(t testing.TB, api FastAPI) (*httptest.Server, *fastpath.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(api)
	fast := fastpath.New(api, srv.Listener, fastpath.Config{IdleTimeout: time.Minute, ReadHeaderTimeout: 10 * time.Second})
	srv.Listener = fast
	srv.Config.ConnState = fast.ConnState
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := fast.Shutdown(ctx); err != nil {
			t.Errorf("fast path shutdown: %v", err)
		}
	})
	return srv, fast
}
