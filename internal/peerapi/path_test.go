package peerapi

import (
	"errors"
	"net/url"
	"testing"

	"sphere.software/objstore"
)

func TestParseVersion(t *testing.T) {
	for _, v := range []objstore.Version{
		{},
		{HLC: 1},
		{HLC: 1<<64 - 1, Node: "01HZX3Q2N1R0K6V4WB8C9D7E5F"},
		{HLC: 0xabc, Node: "with-dash-and/slash?&="},
		{HLC: 7, Node: "-"},
	} {
		got, err := ParseVersion(v.String())
		if err != nil || got != v {
			t.Errorf("ParseVersion(%q) = %+v, %v; want %+v", v.String(), got, err, v)
		}
	}
	for _, s := range []string{
		"", "-", "00000000000000ff", "00000000000000ffx", "0000000000000ff-n", "00000000000000FF-n",
		"+000000000000000-n", "0x000000000000ff-n", "000000000000000g-n", " 00000000000000f-n",
	} {
		if _, err := ParseVersion(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseVersion(%q): err = %v, want ErrMalformed", s, err)
		}
	}
}

func TestEscapeSegment(t *testing.T) {
	for _, key := range hostileKeys {
		for _, s := range []string{key.Bucket, key.ID} {
			esc := escapeSegment(s)
			for i := 0; i < len(esc); i++ {
				if c := esc[i]; !unreserved(c) && c != '%' {
					t.Errorf("%q escapes to %q with %q", s, esc, c)
				}
			}
			if got, err := url.PathUnescape(esc); err != nil || got != s {
				t.Errorf("%q escapes to %q, which unescapes to %q, %v", s, esc, got, err)
			}
		}
	}
}
