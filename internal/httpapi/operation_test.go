package httpapi

import (
	"net/http/httptest"
	"testing"
)

func TestOperation(t *testing.T) {
	for _, tc := range []struct{ method, target, want string }{
		{"GET", "/api/v1/get/01J0000000000000000000000A", "get"},
		{"HEAD", "/api/v1/get/01J0000000000000000000000A", "head"},
		{"GET", "/api/v1/meta/01J0000000000000000000000A", "meta"},
		{"POST", "/api/v1/put", "put"},
		{"GET", "/api/v1/put", "put"}, // a 405, named for its route
		{"POST", "/api/v1/delete/x", "delete"},
		{"POST", "/api/v1/level/x", "level"},
		{"GET", "/api/v1/stats", "stats"},
		{"GET", "/api/v1/warm/01J0000000000000000000000A", "warm"},
		{"POST", "/api/v1/events?token=x", "events"},
		{"GET", "/metrics", "metrics"},
		{"GET", "/", "other"},
		{"GET", "/api/v1/nosuchthing", "other"},
		{"GET", "/api/v2/get/x", "other"},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if got := Operation(r); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.method, tc.target, got, tc.want)
		}
	}
}
