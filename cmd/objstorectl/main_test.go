package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"sphere.software/objstore/client"
)

// runCLI runs the command line and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	code := run(context.Background(), args, e)
	return code, out.String(), errOut.String()
}

// deadEndpoint is an address where nothing listens.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // now nothing listens there
	return addr
}

// TestBadInput: unknown commands and flags, wrong arguments, a missing
// file and a node that cannot be reached each exit non-zero with a clear
// message on stderr and nothing on stdout.
func TestBadInput(t *testing.T) {
	dead := deadEndpoint(t)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, exitUsage, "no command given"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"--bogus", "nodes"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"nodes", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"get"}, exitUsage, "get: want objstorectl get ID"},
		{[]string{"level", "ID"}, exitUsage, "level: want"},
		{[]string{"level", "ID", "7"}, exitUsage, `level "7": want 0, 1 or 2`},
		{[]string{"get", "ID", "--range", "9-3"}, exitUsage, "--range"},
		{[]string{"put", "x", "--meta", "[1]"}, exitUsage, "--meta: want a JSON object"},
		{[]string{"-e", "ftp://x", "nodes"}, exitUsage, "want http:// or https://"},
		{[]string{"--attempts", "0", "nodes"}, exitUsage, "--attempts 0"},
		{[]string{"warm", "b", "p", "--keys", "-"}, exitUsage, "not both"},
		{[]string{"help", "nope"}, exitUsage, `unknown command "nope"`},
		{[]string{"-e", dead, "put", "/nonexistent/file"}, exitError, "open /nonexistent/file: no such file or directory"},
		{[]string{"-e", dead, "--attempts", "2", "nodes"}, exitUnreachable, "nodes on http://" + dead + ": unreachable: dial tcp"},
		{[]string{"stat", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "-e", dead}, exitUnreachable, "unreachable"},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) || out != "" {
			t.Errorf("objstorectl %q: exit %d, stderr %q, stdout %q; want exit %d, %q", tc.args, code, errOut, out, tc.code, tc.msg)
		}
	}
}

// TestTimeout: --timeout bounds a command against a node that does not
// answer; it exits 1, saying so.
func TestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	code, _, errOut := runCLI(t, "-e", srv.URL, "--timeout", "100ms", "nodes")
	if code != exitError || !strings.Contains(errOut, "context deadline exceeded") {
		t.Errorf("exit %d, stderr %q; want 1 and the deadline", code, errOut)
	}
}

// TestBar: a bar draws its share, bytes and label, and nothing when off.
func TestBar(t *testing.T) {
	var buf bytes.Buffer
	b := startBar(true, &buf, "put f", 4<<20)
	b.add(1 << 20)
	b.set(2 << 20) // a retry rewound and sent half again
	b.Stop()
	if out := buf.String(); !strings.Contains(out, "put f [===============               ]  50% 2.0 MiB / 4.0 MiB") || !strings.HasSuffix(out, "\n") {
		t.Errorf("bar drew %q", out)
	}
	off := startBar(false, &buf, "x", 1)
	off.add(1)
	off.Stop() // a nil bar does nothing
}

// TestHelp: help and -h print usage on stdout and exit 0.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"help", "put"}, {"put", "-h"}} {
		code, out, _ := runCLI(t, args...)
		if code != exitOK || !strings.Contains(out, "Usage: objstorectl") {
			t.Errorf("objstorectl %q: exit %d, stdout %q", args, code, out)
		}
	}
	_, out, _ := runCLI(t, "help")
	for _, c := range commands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("help does not list %s", c.name)
		}
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want client.GetOptions
		ok   bool
	}{
		{"", client.GetOptions{}, true},
		{"0-9", client.GetOptions{Offset: 0, Length: 10}, true},
		{"5-", client.GetOptions{Offset: 5}, true},
		{"-100", client.GetOptions{Offset: -100}, true},
		{"7-7", client.GetOptions{Offset: 7, Length: 1}, true},
		{"-0", client.GetOptions{}, false},
		{"9-3", client.GetOptions{}, false},
		{"x-3", client.GetOptions{}, false},
		{"12", client.GetOptions{}, false},
	} {
		got, err := parseRange(tc.in)
		if (err == nil) != tc.ok || tc.ok && got != tc.want {
			t.Errorf("parseRange(%q) = %+v, %v; want %+v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestParseInterleaved: flags may come after positional arguments, and
// "--" ends the flags.
func TestParseInterleaved(t *testing.T) {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	j := fs.Bool("json", false, "")
	o := fs.String("o", "", "")
	pos, err := parseInterleaved(fs, []string{"a", "--json", "b", "-o", "f", "--", "-c", "--json"})
	if err != nil || !*j || *o != "f" || !slices.Equal(pos, []string{"a", "b", "-c", "--json"}) {
		t.Errorf("pos %q, json %v, o %q, err %v", pos, *j, *o, err)
	}
}
