package main

import (
	"log/slog"
	"strings"
	"testing"
)

// TestNativeAuthNeedsSomethingToCheck checks that --native-api-auth on is
// refused when neither an S3 API key nor a token could ever pass, and
// that an open native API is no error.
func TestNativeAuthNeedsSomethingToCheck(t *testing.T) {
	discard := slog.New(slog.DiscardHandler)
	anonOnly, err := fixedKeys(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.NativeAPIAuth = "on"
	if _, err := nativeAuth(cfg, anonOnly, discard); err == nil || !strings.Contains(err.Error(), "nothing could pass") {
		t.Errorf("no keys, no token: err=%v", err)
	}
	cfg.NativeAPIToken = "0123456789abcdef0123"
	if auth, err := nativeAuth(cfg, anonOnly, discard); err != nil || auth == nil {
		t.Errorf("token only: auth=%v err=%v", auth, err)
	}
	cfg.NativeAPIAuth, cfg.NativeAPIToken = "off", ""
	if auth, err := nativeAuth(cfg, anonOnly, discard); err != nil || auth != nil {
		t.Errorf("off: auth=%v err=%v, want nil, nil", auth, err)
	}
}
