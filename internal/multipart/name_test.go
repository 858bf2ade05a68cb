package multipart

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore"
)

func TestNewID(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	a, b := newID(t0), newID(t0)
	if !validID(a) || !validID(b) || a == b {
		t.Fatalf("newID gave %q and %q", a, b)
	}
	if idTime(a) != uint64(t0.UnixNano()) {
		t.Fatalf("idTime = %d, want %d", idTime(a), t0.UnixNano())
	}
	if later := newID(t0.Add(time.Nanosecond)); later <= a || later <= b {
		t.Fatalf("a later ID %s does not sort after %s and %s", later, a, b)
	}
}

func TestValidID(t *testing.T) {
	good := strings.Repeat("0123456789abcdef", 3)
	for _, tt := range []struct {
		id string
		ok bool
	}{
		{good, true},
		{"", false},
		{good[:47], false},
		{good + "0", false},
		{strings.ToUpper(good), false},
		{"../" + good[3:], false},
		{good[:47] + "/", false},
		{good[:47] + "g", false},
		{tmpDir, false},
	} {
		if got := validID(tt.id); got != tt.ok {
			t.Errorf("validID(%q) = %v, want %v", tt.id, got, tt.ok)
		}
	}
}

func TestPartName(t *testing.T) {
	sum := objstore.MD5{0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e}
	name := partName(42, 0xabc, sum)
	if name != "part-00042.0000000000000abc.d41d8cd98f00b204e9800998ecf8427e" {
		t.Fatalf("partName = %s", name)
	}
	n, gen, got, ok := parsePartName(name)
	if !ok || n != 42 || gen != 0xabc || got != sum {
		t.Fatalf("parsePartName(%s) = %d %x %s %v", name, n, gen, got, ok)
	}
	for _, bad := range []string{
		"", "info.json", name + "x", name[:len(name)-1],
		strings.Replace(name, "00042", "00000", 1),
		strings.Replace(name, "00042", "10001", 1),
		strings.Replace(name, "00042", "0004a", 1),
		strings.Replace(name, "00042", "+0042", 1),
		strings.Replace(name, "abc", "ABC", 1),
		strings.Replace(name, "d41d", "D41D", 1),
		strings.Replace(name, ".", "-", 1),
		strings.Replace(name, "part-", "part_", 1),
	} {
		if _, _, _, ok := parsePartName(bad); ok {
			t.Errorf("parsePartName(%q) accepted it", bad)
		}
	}
}

// FuzzID checks that the parsers of upload IDs and part names never panic,
// accept only names that are safe as one path element, and accept exactly
// what the formatters make.
func FuzzID(f *testing.F) {
	f.Add(strings.Repeat("0123456789abcdef", 3))
	f.Add("part-00001.0000000000000001.d41d8cd98f00b204e9800998ecf8427e")
	f.Add("part-10000.ffffffffffffffff.ffffffffffffffffffffffffffffffff")
	f.Add("../x")
	f.Add("a/b")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if validID(s) {
			if filepath.Base(s) != s || strings.ContainsAny(s, "/\\.\x00") || len(s) != idLen {
				t.Fatalf("validID accepted %q", s)
			}
			_ = idTime(s)
		}
		if n, gen, sum, ok := parsePartName(s); ok {
			if got := partName(n, gen, sum); got != s {
				t.Fatalf("parsePartName(%q) round-trips to %q", s, got)
			}
			if n < 1 || n > MaxParts || strings.ContainsAny(s, "/\\\x00") {
				t.Fatalf("parsePartName accepted %q", s)
			}
		}
		_ = etagMatches(s, objstore.MD5{})
	})
}
