package main

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// TestKeygen checks that `objstore keygen` prints a new 32-byte random key,
// base64, each time.
func TestKeygen(t *testing.T) {
	seen := map[string]bool{}
	for range 8 {
		var out, errs bytes.Buffer
		if code := run([]string{"keygen"}, func(string) string { return "" }, &out, &errs); code != 0 || errs.Len() != 0 {
			t.Fatalf("keygen: exit %d, stderr %q", code, errs.String())
		}
		key := strings.TrimSuffix(out.String(), "\n")
		b, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(b) != 32 || strings.Count(out.String(), "\n") != 1 {
			t.Fatalf("keygen printed %q: want one line of 32 bytes base64 (%d bytes, %v)", out.String(), len(b), err)
		}
		if seen[key] {
			t.Fatalf("keygen repeated %q", key)
		}
		seen[key] = true
	}
}

// TestShortClusterKeyRefused checks that a node does not start with a
// cluster key under 16 bytes, from a flag or the environment, and says to
// use `objstore keygen`, without echoing the key.
func TestShortClusterKeyRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
	}{
		{args: []string{"--cluster-key", "hunter2"}},
		{env: map[string]string{"APP_CLUSTER_KEY": "hunter2-hunter2"}},
	} {
		var out, errs bytes.Buffer
		dir := t.TempDir()
		args := append([]string{"--state-dir", dir + "/state", "--files-dir", dir + "/files"}, c.args...)
		code := run(args, func(k string) string { return c.env[k] }, &out, &errs)
		msg := errs.String()
		if code != 2 || !strings.Contains(msg, "--cluster-key") || !strings.Contains(msg, "objstore keygen") || strings.Contains(msg, "hunter2") {
			t.Errorf("%v %v: exit %d, stderr %q; want 2 and a message naming --cluster-key and objstore keygen, without the key", c.args, c.env, code, msg)
		}
	}
}
