package s3

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A streamed upload (PutStream) is framed in S3's aws-chunked encoding with
// a trailing CRC-32C (x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-
// TRAILER): the checksum, unknown until the body's last byte, follows the
// body, and the origin checks it. The framing is also what makes a cut
// upload fail: an origin takes a plain unsigned body that ends before its
// Content-Length for the whole object (versitygw 1.8 stores the bytes it
// got), but a chunked one without its last chunk and trailer is an
// IncompleteBody.
const (
	chunkSize       = 64 << 10 // internal/node writes a streamed body to its file in filled writes of this size (followedWriteSize)
	streamingHash   = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	trailerName     = "x-amz-checksum-crc32c"
	trailerLineSize = len(trailerName) + 1 + 8 + 2 // name:base64(4 bytes)\r\n
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// chunkedLength is the length of size bytes framed by chunkedBody.
func chunkedLength(size int64) int64 {
	frame := func(n int64) int64 { return int64(len(strconv.FormatInt(n, 16))) + 2 + n + 2 }
	total := size / chunkSize * frame(chunkSize)
	if rest := size % chunkSize; rest > 0 {
		total += frame(rest)
	}
	return total + 3 + int64(trailerLineSize) + 2 // 0\r\n, the trailer, \r\n
}

// chunkedBody reads size bytes of body from its start and frames them.
type chunkedBody struct {
	body    io.ReaderAt
	size    int64
	off     int64 // next byte of body to read
	crc     uint32
	pending []byte // framed bytes not yet returned
	buf     []byte
	ended   bool
}

func newChunkedBody(body io.ReaderAt, size int64) *chunkedBody {
	return &chunkedBody{body: body, size: size, buf: make([]byte, 0, chunkSize+32)}
}

func (c *chunkedBody) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.ended {
			return 0, io.EOF
		}
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// next frames the next chunk of the body, or the last chunk and trailer.
func (c *chunkedBody) next() error {
	c.buf = c.buf[:0]
	n := min(chunkSize, c.size-c.off)
	if n == 0 {
		var sum [4]byte
		binary.BigEndian.PutUint32(sum[:], c.crc)
		c.buf = append(c.buf, "0\r\n"+trailerName+":"...)
		c.buf = base64.StdEncoding.AppendEncode(c.buf, sum[:])
		c.buf = append(c.buf, "\r\n\r\n"...)
		c.pending, c.ended = c.buf, true
		return nil
	}
	c.buf = strconv.AppendInt(c.buf, n, 16)
	c.buf = append(c.buf, "\r\n"...)
	start := len(c.buf)
	c.buf = c.buf[:start+int(n)]
	if got, err := c.body.ReadAt(c.buf[start:], c.off); int64(got) < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	c.crc = crc32.Update(c.crc, castagnoli, c.buf[start:])
	c.off += n
	c.buf = append(c.buf, "\r\n"...)
	c.pending = c.buf
	return nil
}

// withChunkedUpload makes a PutObject send its body, already framed by
// chunkedBody, as a streamed upload of decoded bytes: the payload hash and
// the headers S3 reads the framing by, all signed.
func withChunkedUpload(decoded int64) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		headers := middleware.BuildMiddlewareFunc("objstoreChunkedHeaders", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			req, ok := in.Request.(*smithyhttp.Request)
			if !ok {
				return middleware.BuildOutput{}, middleware.Metadata{}, fmt.Errorf("chunked upload: unexpected request %T", in.Request)
			}
			req.Header.Set("X-Amz-Decoded-Content-Length", strconv.FormatInt(decoded, 10))
			req.Header.Set("X-Amz-Trailer", trailerName)
			return next.HandleBuild(ctx, in)
		})
		if err := stack.Build.Add(headers, middleware.After); err != nil {
			return err
		}
		// Swap takes the place of the middleware of the same ID.
		hash := middleware.FinalizeMiddlewareFunc("ComputePayloadHash", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			return next.HandleFinalize(v4.SetPayloadHash(ctx, streamingHash), in)
		})
		_, err := stack.Finalize.Swap("ComputePayloadHash", hash)
		return err
	}
}
