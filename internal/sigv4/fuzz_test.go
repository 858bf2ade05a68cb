package sigv4

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	const sig = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"sdk spacing", "AWS4-HMAC-SHA256 Credential=" + docCred + ", SignedHeaders=host;x-amz-date, Signature=" + sig, true},
		{"no spaces, other order", "AWS4-HMAC-SHA256 Signature=" + sig + ",Credential=" + docCred + ",SignedHeaders=host", true},
		{"v2", "AWS " + docAccessKey + ":abc", false},
		{"missing field", "AWS4-HMAC-SHA256 Credential=" + docCred + ", Signature=" + sig, false},
		{"repeated field", "AWS4-HMAC-SHA256 Credential=" + docCred + ", Credential=" + docCred + ", SignedHeaders=host, Signature=" + sig, false},
		{"unknown field", "AWS4-HMAC-SHA256 Credential=" + docCred + ", SignedHeaders=host, Signature=" + sig + ", Extra=1", false},
		{"uppercase signature", "AWS4-HMAC-SHA256 Credential=" + docCred + ", SignedHeaders=host, Signature=" + strings.ToUpper(sig), false},
		{"host not signed", "AWS4-HMAC-SHA256 Credential=" + docCred + ", SignedHeaders=x-amz-date, Signature=" + sig, false},
		{"headers unsorted", "AWS4-HMAC-SHA256 Credential=" + docCred + ", SignedHeaders=x-amz-date;host, Signature=" + sig, false},
		{"service not s3", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=" + sig, false},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=" + sig, false},
		{"bad date", "AWS4-HMAC-SHA256 Credential=AK/2013052/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseAuthorization(tc.in)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrMalformedAuth)) {
				t.Errorf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, skip, want string }{
		{"", "", ""},
		{"b=2&a=1", "", "a=1&b=2"},
		{"x=2&x=1&x=", "", "x=&x=1&x=2"},
		{"acl&uploads=", "", "acl=&uploads="},
		{"a%2Fb=a-b&a-b=a%2Fb", "", "a%2Fb=a-b&a-b=a%2Fb"},
		{"p=a+b%20c~%7E*", "", "p=a%20b%20c~~%2A"},
		{"X-Amz-Signature=s&a=1", "X-Amz-Signature", "a=1"},
	}
	for _, tc := range tests {
		params, err := parseQuery(tc.raw, ErrMalformedAuth)
		if err != nil {
			t.Fatal(err)
		}
		if got := canonicalQuery(params, tc.skip); got != tc.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestTrimAll(t *testing.T) {
	for in, want := range map[string]string{"a": "a", "  a  ": "a", "a  b   c": "a b c", " \ta\t ": "a", "a\t\tb": "a\t\tb"} {
		if got := trimAll(in); got != want {
			t.Errorf("trimAll(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=" + docCred + ", SignedHeaders=host;range;x-amz-date, Signature=" + docStreaming.seed)
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e/20130524/r/s3/aws4_request,SignedHeaders=host,Signature=")
	f.Add("AWS4-HMAC-SHA256 ,,,===")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAuthorization(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedAuth) {
				t.Fatalf("error %v does not wrap ErrMalformedAuth", err)
			}
			return
		}
		// What parses formats back to something that parses the same.
		again := "AWS4-HMAC-SHA256 Credential=" + a.accessKey + "/" + a.scope.String() +
			", SignedHeaders=" + strings.Join(a.signedHeaders, ";") + ", Signature=" + a.signature
		b, err := parseAuthorization(again)
		if err != nil || b.accessKey != a.accessKey || b.scope != a.scope || b.signature != a.signature ||
			strings.Join(b.signedHeaders, ";") != strings.Join(a.signedHeaders, ";") {
			t.Fatalf("round trip of %q: %+v, %v", s, b, err)
		}
	})
}

// FuzzChunkReader feeds arbitrary bodies to the decoder in each mode: it
// must not panic, must end in io.EOF only for well-formed input, never
// yield more bytes than it was given, and keep its buffers bounded.
func FuzzChunkReader(f *testing.F) {
	small := "5;chunk-signature=" + docStreaming.chunkSigs[0] + "\r\nhello\r\n0;chunk-signature=" + docStreaming.chunkSigs[1] + "\r\n\r\n"
	f.Add([]byte(small), uint8(0), int64(-1))
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), uint8(2), int64(5))
	f.Add([]byte("0\r\n\r\n"), uint8(2), int64(0))
	f.Add([]byte(docStreamingTrailer.body()[:300]), uint8(1), int64(66560))
	f.Add([]byte("fffffffffffffff\r\n"), uint8(2), int64(-1))
	f.Fuzz(func(t *testing.T, body []byte, mode uint8, decoded int64) {
		cfg := docChunkConfig(t, docStreaming, max(decoded, -1))
		cfg.signed, cfg.trailer = mode%3 != 2, mode%3 != 0
		cfg.declared = []string{"x-amz-checksum-crc32"}
		cr := newChunkReader(strings.NewReader(string(body)), cfg)
		n, err := io.Copy(io.Discard, cr)
		if n > int64(len(body)) {
			t.Fatalf("decoded %d bytes from %d", n, len(body))
		}
		if err == nil && cfg.decoded >= 0 && n != cfg.decoded {
			t.Fatalf("EOF after %d bytes, decoded length %d", n, cfg.decoded)
		}
		if cr.src.Size() > maxLine || len(cr.trailers) > maxTrailers {
			t.Fatalf("buffer %d, %d trailers", cr.src.Size(), len(cr.trailers))
		}
	})
}
