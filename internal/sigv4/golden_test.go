package sigv4

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The worked examples of the S3 API reference, "Signature Calculations for
// the Authorization Header" (single chunk, GET Object), "Query string
// authentication" (presigned GET) and "Transferring Payload in Multiple
// Chunks" (PUT Object, with and without trailing headers): fixed keys, date
// and signatures.
const (
	docAccessKey = "AKIAIOSFODNN7EXAMPLE"
	docSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docAmzDate   = "20130524T000000Z"
	docCred      = docAccessKey + "/20130524/us-east-1/s3/aws4_request"
)

func docVerifier(tb testing.TB) *Verifier {
	tb.Helper()
	at, err := time.Parse(amzDateLayout, docAmzDate)
	if err != nil {
		tb.Fatal(err)
	}
	return NewVerifier([]Credentials{{docAccessKey, docSecretKey}}, "", func() time.Time { return at })
}

func TestDocGetObject(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/test.txt", nil)
	r.Host = "examplebucket.s3.amazonaws.com"
	r.Header.Set("Range", "bytes=0-9")
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	r.Header.Set("X-Amz-Date", docAmzDate)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+docCred+
		",SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"+
		"Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
	ak, err := docVerifier(t).Verify(r)
	if err != nil || ak != docAccessKey {
		t.Fatalf("Verify = %q, %v", ak, err)
	}
	if _, err := io.ReadAll(r.Body); err != nil {
		t.Errorf("empty body: %v", err)
	}
}

func TestDocPresignedGet(t *testing.T) {
	target := "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" +
		strings.ReplaceAll(docCred, "/", "%2F") + "&X-Amz-Date=" + docAmzDate +
		"&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
		"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Host = "examplebucket.s3.amazonaws.com"
	if ak, err := docVerifier(t).Verify(r); err != nil || ak != docAccessKey {
		t.Fatalf("Verify = %q, %v", ak, err)
	}
}

// streamingExample is one of the chunked-upload examples: 66560 bytes of
// 'a' sent as a 65536-byte chunk, a 1024-byte chunk and the final chunk.
type streamingExample struct {
	mode          string
	signedHeaders string
	seed          string
	chunkSigs     [3]string
	trailer       string // "name:value", or empty
	trailerSig    string
}

var (
	docStreaming = streamingExample{
		mode:          streamingSigned,
		signedHeaders: "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
		seed:          "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
		chunkSigs: [3]string{
			"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
			"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
			"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
		},
	}
	docStreamingTrailer = streamingExample{
		mode:          streamingSignedTrailer,
		signedHeaders: "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
		seed:          "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
		chunkSigs: [3]string{
			"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
			"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
			"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
		},
		trailer:    "x-amz-checksum-crc32c:sOO8/Q==",
		trailerSig: "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
	}
	docChunk1 = strings.Repeat("a", 65536)
	docChunk2 = strings.Repeat("a", 1024)
)

func docChunk(data, sig string) string {
	return strconv.FormatInt(int64(len(data)), 16) + ";chunk-signature=" + sig + "\r\n" + data + "\r\n"
}

func (e streamingExample) body() string {
	b := docChunk(docChunk1, e.chunkSigs[0]) + docChunk(docChunk2, e.chunkSigs[1]) +
		"0;chunk-signature=" + e.chunkSigs[2] + "\r\n"
	if e.trailer != "" {
		b += e.trailer + "\r\n" + trailerSignature + ":" + e.trailerSig + "\r\n"
	}
	return b + "\r\n"
}

func (e streamingExample) request(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPut, "/examplebucket/chunkObject.txt", strings.NewReader(body))
	r.Host = "s3.amazonaws.com"
	r.Header.Set("X-Amz-Date", docAmzDate)
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("X-Amz-Content-Sha256", e.mode)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("Content-Length", "66824")
	if e.trailer != "" {
		r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32c")
	}
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+docCred+
		",SignedHeaders="+e.signedHeaders+",Signature="+e.seed)
	return r
}

func TestDocStreaming(t *testing.T) {
	for _, e := range []streamingExample{docStreaming, docStreamingTrailer} {
		t.Run(e.mode, func(t *testing.T) {
			r := e.request(e.body())
			if _, err := docVerifier(t).Verify(r); err != nil {
				t.Fatalf("seed signature: %v", err)
			}
			got, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatalf("body: %v", err)
			}
			if string(got) != docChunk1+docChunk2 {
				t.Errorf("decoded %d bytes, want 66560 of 'a'", len(got))
			}
			if r.ContentLength != 66560 || r.Header.Get("Content-Encoding") != "" {
				t.Errorf("ContentLength %d, Content-Encoding %q", r.ContentLength, r.Header.Get("Content-Encoding"))
			}
			if e.trailer != "" && r.Trailer.Get("X-Amz-Checksum-Crc32c") != "sOO8/Q==" {
				t.Errorf("r.Trailer = %v", r.Trailer)
			}
		})
	}
}

// readDoc verifies e's request with body and reads it all.
func readDoc(t *testing.T, e streamingExample, body string, edit func(*http.Request)) error {
	t.Helper()
	r := e.request(body)
	if edit != nil {
		edit(r)
	}
	if _, err := docVerifier(t).Verify(r); err != nil {
		t.Fatalf("seed signature: %v", err)
	}
	_, err := io.Copy(io.Discard, r.Body)
	return err
}

func TestDocStreamingTampered(t *testing.T) {
	e := docStreaming
	s := e.chunkSigs
	good := e.body()
	final := "0;chunk-signature=" + s[2] + "\r\n\r\n"
	tests := []struct {
		name string
		body string
		edit func(*http.Request)
		want error
	}{
		{"data byte changed", strings.Replace(good, "a\r\n400;", "b\r\n400;", 1), nil, ErrSignatureMismatch},
		{"chunk signature changed", strings.Replace(good, s[1], strings.Repeat("0", 64), 1), nil, ErrSignatureMismatch},
		{"chunk signature missing", strings.Replace(good, "400;chunk-signature="+s[1], "400", 1), nil, ErrMalformedChunk},
		{"chunks reordered", docChunk(docChunk2, s[1]) + docChunk(docChunk1, s[0]) + final, nil, ErrSignatureMismatch},
		{"chunk dropped", docChunk(docChunk1, s[0]) + final, nil, ErrSignatureMismatch},
		{"final chunk missing", docChunk(docChunk1, s[0]) + docChunk(docChunk2, s[1]), nil, ErrMalformedChunk},
		{"cut mid-chunk", good[:40000], nil, ErrMalformedChunk},
		{"final chunk signature changed", strings.Replace(good, s[2], s[1], 1), nil, ErrSignatureMismatch},
		{"data after final chunk", good + "x", nil, ErrMalformedChunk},
		{"trailer on a payload without trailers", strings.TrimSuffix(good, "\r\n") + "x-amz-checksum-crc32:AAAAAA==\r\n\r\n", nil, ErrMalformedChunk},
		{"bare LF", strings.Replace(good, "\r\n", "\n", 1), nil, ErrMalformedChunk},
		{"decoded length altered (it is signed)", good, func(r *http.Request) { r.Header.Set("X-Amz-Decoded-Content-Length", "66559") }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil {
				r := e.request(tc.body)
				tc.edit(r)
				if _, err := docVerifier(t).Verify(r); !errors.Is(err, ErrSignatureMismatch) {
					t.Errorf("Verify = %v, want ErrSignatureMismatch", err)
				}
				return
			}
			if err := readDoc(t, e, tc.body, tc.edit); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// The decoded length is signed, so a wrong one is the client's: the reader
// fails when the chunks overrun it or fall short of it.
func TestChunkReaderDecodedLength(t *testing.T) {
	e := docStreaming
	for _, n := range []int64{0, 65535, 65536, 66559, 66561} {
		t.Run(strconv.FormatInt(n, 10), func(t *testing.T) {
			cr := newChunkReader(strings.NewReader(e.body()), docChunkConfig(t, e, n))
			if _, err := io.Copy(io.Discard, cr); !errors.Is(err, ErrMalformedChunk) {
				t.Errorf("err = %v, want ErrMalformedChunk", err)
			}
		})
	}
	cr := newChunkReader(strings.NewReader(e.body()), docChunkConfig(t, e, -1))
	if n, err := io.Copy(io.Discard, cr); err != nil || n != 66560 {
		t.Errorf("without a decoded length: %d, %v", n, err)
	}
}

func docChunkConfig(tb testing.TB, e streamingExample, decoded int64) chunkConfig {
	tb.Helper()
	sc := scope{date: "20130524", region: "us-east-1", service: "s3"}
	return chunkConfig{signed: true, trailer: e.trailer != "", signer: newSigner(signingKey(docSecretKey, sc), docAmzDate, sc),
		seed: e.seed, decoded: decoded}
}

func TestDocStreamingTrailerTampered(t *testing.T) {
	e := docStreamingTrailer
	good := e.body()
	tests := []struct {
		name, body string
		want       error
	}{
		{"checksum changed", strings.Replace(good, "sOO8/Q==", "AAAAAA==", 1), ErrSignatureMismatch},
		{"trailer dropped", strings.Replace(good, e.trailer+"\r\n", "", 1), ErrSignatureMismatch},
		{"undeclared trailer added", strings.Replace(good, e.trailer+"\r\n", e.trailer+"\r\nx-amz-meta-a:1\r\n", 1), ErrMalformedChunk},
		{"trailer signature changed", strings.Replace(good, e.trailerSig, e.seed, 1), ErrSignatureMismatch},
		{"trailer signature missing", strings.Replace(good, trailerSignature+":"+e.trailerSig+"\r\n", "", 1), ErrSignatureMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := readDoc(t, e, tc.body, nil); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
