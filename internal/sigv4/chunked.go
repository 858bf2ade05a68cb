package sigv4

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
)

const (
	// maxLine bounds a chunk header or trailer line, CRLF included.
	maxLine = 4096
	// maxTrailers bounds the trailer lines after the final chunk.
	maxTrailers = 16
	// trailerSignature is the trailer that signs the others.
	trailerSignature = "x-amz-trailer-signature"
)

// chunkConfig says how to decode and check one aws-chunked body.
type chunkConfig struct {
	signed   bool   // chunks carry chunk-signature=, chained from seed
	trailer  bool   // trailers may follow the final chunk
	signer   signer // for signed chunks and trailers
	seed     string // the request's signature
	decoded  int64  // x-amz-decoded-content-length; -1 if not sent
	declared []string
}

// chunkReader decodes an aws-chunked body:
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;chunk-signature=sig]\r\n [trailer:value\r\n ...] \r\n
//
// It streams each chunk's data while hashing it and checks the chunk's
// signature when the chunk ends, so memory stays bounded whatever the chunk
// size; a bad chunk's bytes may be returned before the error that condemns
// them, but io.EOF comes only after every signature, the trailers and the
// decoded length have checked out.
type chunkReader struct {
	cfg      chunkConfig
	src      *bufio.Reader
	prev     string               // last verified signature
	sig      string               // signature claimed for the current chunk
	left     int64                // data bytes of the current chunk still to read
	hash     hash.Hash            // current chunk's data, for its signature
	total    int64                // decoded bytes so far
	sums     map[string]hash.Hash // declared checksum trailers, by name
	trailers http.Header          // the trailers, once io.EOF is returned
	err      error                // sticky
}

func newChunkReader(body io.Reader, cfg chunkConfig) *chunkReader {
	c := &chunkReader{cfg: cfg, src: bufio.NewReaderSize(body, maxLine), prev: cfg.seed, hash: sha256.New()}
	for _, name := range cfg.declared {
		if h := NewChecksum(name); h != nil {
			if c.sums == nil {
				c.sums = make(map[string]hash.Hash)
			}
			c.sums[name] = h
		}
	}
	return c
}

// Read returns decoded payload bytes.
func (c *chunkReader) Read(p []byte) (int, error) {
	for c.err == nil && c.left == 0 {
		c.err = c.nextChunk()
	}
	if c.err != nil {
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.src.Read(p)
	c.consume(p[:n])
	switch {
	case c.left == 0:
		c.err = c.endChunk()
	case err != nil:
		c.err = readErr(err, "chunk data")
	}
	return n, c.err
}

func (c *chunkReader) consume(b []byte) {
	c.left -= int64(len(b))
	c.total += int64(len(b))
	if c.cfg.signed {
		c.hash.Write(b)
	}
	for _, h := range c.sums {
		h.Write(b)
	}
}

// nextChunk reads a chunk header; at the final chunk it finishes the body
// and returns io.EOF.
func (c *chunkReader) nextChunk() error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	size, sig, err := parseChunkHeader(line, c.cfg.signed)
	if err != nil {
		return err
	}
	if c.cfg.decoded >= 0 && size > c.cfg.decoded-c.total {
		return fmt.Errorf("sigv4: chunks exceed x-amz-decoded-content-length %d: %w", c.cfg.decoded, ErrMalformedChunk)
	}
	c.sig, c.left = sig, size
	c.hash.Reset()
	if size == 0 {
		return c.finish()
	}
	return nil
}

// parseChunkHeader parses "hex-size" or "hex-size;chunk-signature=<hex>".
// Signed bodies need the signature; unsigned ones ignore extensions.
func parseChunkHeader(line string, signed bool) (size int64, sig string, err error) {
	sizeHex, ext, hasExt := strings.Cut(line, ";")
	if len(sizeHex) == 0 || len(sizeHex) > 15 || strings.Trim(sizeHex, "0123456789abcdefABCDEF") != "" {
		return 0, "", fmt.Errorf("sigv4: chunk size %q: %w", sizeHex, ErrMalformedChunk)
	}
	size, err = strconv.ParseInt(sizeHex, 16, 64)
	if err != nil {
		return 0, "", fmt.Errorf("sigv4: chunk size %q: %w", sizeHex, ErrMalformedChunk)
	}
	if !signed {
		return size, "", nil
	}
	sig, ok := strings.CutPrefix(ext, "chunk-signature=")
	if !hasExt || !ok || !isHexSHA256(sig) {
		return 0, "", fmt.Errorf("sigv4: chunk header %q: want chunk-signature: %w", line, ErrMalformedChunk)
	}
	return size, sig, nil
}

// endChunk reads the CRLF after a chunk's data and checks its signature.
func (c *chunkReader) endChunk() error {
	var crlf [2]byte
	if _, err := io.ReadFull(c.src, crlf[:]); err != nil {
		return readErr(err, "chunk end")
	}
	if string(crlf[:]) != "\r\n" {
		return fmt.Errorf("sigv4: chunk data not followed by CRLF: %w", ErrMalformedChunk)
	}
	return c.checkChunkSig(hex.EncodeToString(c.hash.Sum(nil)))
}

func (c *chunkReader) checkChunkSig(dataHash string) error {
	if !c.cfg.signed {
		return nil
	}
	want := c.cfg.signer.signChunk(c.prev, dataHash)
	if !equalSig(want, c.sig) {
		return fmt.Errorf("sigv4: chunk ending at byte %d: %w", c.total, ErrSignatureMismatch)
	}
	c.prev = want
	return nil
}

// finish checks the final chunk, the trailers and the decoded length, and
// that nothing follows; it returns io.EOF when all is well.
func (c *chunkReader) finish() error {
	if err := c.checkChunkSig(emptySHA256); err != nil {
		return err
	}
	trailers, sig, err := c.readTrailers()
	if err != nil {
		return err
	}
	if err := c.checkTrailers(trailers, sig); err != nil {
		return err
	}
	if c.cfg.decoded >= 0 && c.total != c.cfg.decoded {
		return fmt.Errorf("sigv4: decoded %d bytes, x-amz-decoded-content-length is %d: %w", c.total, c.cfg.decoded, ErrMalformedChunk)
	}
	if _, err := c.src.ReadByte(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("sigv4: data after the final chunk: %w", ErrMalformedChunk)
	}
	c.trailers = trailers
	return io.EOF
}

// readLine returns the next CRLF-terminated line without its CRLF.
func (c *chunkReader) readLine() (string, error) {
	b, err := c.src.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("sigv4: line longer than %d bytes: %w", maxLine, ErrMalformedChunk)
	case err != nil:
		return "", readErr(err, "chunk header")
	}
	line, ok := strings.CutSuffix(string(b), "\r\n")
	if !ok {
		return "", fmt.Errorf("sigv4: line not ended by CRLF: %w", ErrMalformedChunk)
	}
	return line, nil
}

// readErr turns the end of the body mid-chunk into ErrMalformedChunk and
// passes other read errors (a client gone, a size limit) through.
func readErr(err error, where string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("sigv4: body ends in %s: %w", where, ErrMalformedChunk)
	}
	return err
}
