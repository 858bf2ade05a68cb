package sigv4_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func crc32Value(s string) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE([]byte(s))))
}

// unsignedChunks frames data as STREAMING-UNSIGNED-PAYLOAD-TRAILER does,
// in chunks of size, followed by the trailer lines.
func unsignedChunks(data string, size int, trailers ...string) string {
	var b strings.Builder
	for len(data) > 0 {
		n := min(size, len(data))
		b.WriteString(strconv.FormatInt(int64(n), 16) + "\r\n" + data[:n] + "\r\n")
		data = data[n:]
	}
	b.WriteString("0\r\n")
	for _, t := range trailers {
		b.WriteString(t + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

func TestUnsignedTrailer(t *testing.T) {
	s := newServer(t, false, false)
	payload := strings.Repeat("0123456789", 2000)
	good := "x-amz-checksum-crc32:" + crc32Value(payload)
	tests := []struct {
		name, body, decoded string
		status              int
		code                string
	}{
		{"valid", unsignedChunks(payload, 8192, good), "20000", 200, payload},
		{"valid, one-byte chunks", unsignedChunks(payload[:100], 1, "x-amz-checksum-crc32:"+crc32Value(payload[:100])), "100", 200, payload[:100]},
		{"wrong crc32", unsignedChunks(payload, 8192, "x-amz-checksum-crc32:AAAAAA=="), "20000", 400, "BadDigest"},
		{"payload altered", unsignedChunks(strings.Replace(payload, "9", "8", 1), 8192, good), "20000", 400, "BadDigest"},
		{"trailer missing", unsignedChunks(payload, 8192), "20000", 400, "IncompleteBody"},
		{"undeclared trailer", unsignedChunks(payload, 8192, good, "x-amz-meta-a:1"), "20000", 400, "IncompleteBody"},
		{"decoded length short", unsignedChunks(payload, 8192, good), "19999", 400, "IncompleteBody"},
		{"decoded length long", unsignedChunks(payload, 8192, good), "20001", 400, "IncompleteBody"},
		{"final chunk missing", unsignedChunks(payload, 8192, good)[:20000], "20000", 400, "IncompleteBody"},
		{"bad chunk size", "zz\r\n" + unsignedChunks(payload, 8192, good), "20000", 400, "IncompleteBody"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.newRequest(t, http.MethodPut, "/bucket/k", "", tc.body)
			r.Header.Set("Content-Encoding", "aws-chunked")
			r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
			r.Header.Set("X-Amz-Decoded-Content-Length", tc.decoded)
			sign(t, r, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", testAccessKey, testSecretKey, testTime)
			status, body := s.do(t, r)
			if status != tc.status || body != tc.code {
				t.Fatalf("got %d %.40q, want %d %.40q", status, body, tc.status, tc.code)
			}
			if status != 200 {
				return
			}
			_, _, trailer, length := s.seen.get()
			if trailer.Get("X-Amz-Checksum-Crc32") == "" || length != int64(len(payload[:len(tc.code)])) {
				t.Errorf("trailer %v, ContentLength %d", trailer, length)
			}
		})
	}
}

// newS3Client is an aws-sdk-go-v2 S3 client for s, without retries.
func newS3Client(s *server) *s3.Client {
	return s3.NewFromConfig(aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		HTTPClient:  s.Client(),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.URL)
		o.UsePathStyle = true
		o.RetryMaxAttempts = 1
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	})
}

// The real S3 client, end to end: every hostile key, and PutObject bodies
// as it sends them over TLS (aws-chunked with a checksum trailer for an
// unseekable body) and over plain HTTP (a signed SHA-256).
func TestS3Client(t *testing.T) {
	for _, tls := range []bool{true, false} {
		s := newServer(t, tls, true)
		s.quiet = true
		c := newS3Client(s)
		for _, key := range hostileKeys {
			t.Run(key, func(t *testing.T) {
				payload := strings.Repeat(key, 5000)
				var body io.Reader = bytes.NewReader([]byte(payload))
				if tls {
					body = io.MultiReader(body) // unseekable: the SDK streams it aws-chunked
				}
				_, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key),
					Body: body, ContentLength: aws.Int64(int64(len(payload)))})
				if err != nil {
					t.Fatalf("PutObject: %v", err)
				}
				if _, got, trailer, _ := s.seen.get(); string(got) != payload {
					t.Errorf("server read %d bytes, want %d", len(got), len(payload))
				} else if tls && trailer.Get("X-Amz-Checksum-Crc32") != crc32Value(payload) {
					t.Errorf("mode %s, trailer %v", s.seen.mode, trailer)
				}
				out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
				if err != nil {
					t.Fatalf("GetObject: %v", err)
				}
				_ = out.Body.Close() // nothing to read
			})
		}
	}
}
