package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// wrapBody installs the reader that checks the payload the signature
// covers: nothing for UNSIGNED-PAYLOAD, a hashing reader for a hex SHA-256,
// a decoder for aws-chunked bodies.
func wrapBody(r *http.Request, req *request, s signer) error {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	switch h := req.payloadHash; h {
	case unsignedPayload:
		return nil
	case streamingSigned, streamingSignedTrailer, streamingUnsignedTrailer:
		if req.presigned {
			return fmt.Errorf("sigv4: %s in a presigned URL: %w", h, ErrMalformedQuery)
		}
		return wrapChunked(r, body, req, s)
	default:
		want, _ := hex.DecodeString(h) // validPayloadHash checked it
		r.Body = &hashReader{body: body, hash: sha256.New(), want: want}
		return nil
	}
}

// wrapChunked replaces r.Body with a chunkReader and makes the request look
// like one carrying the decoded payload.
func wrapChunked(r *http.Request, body io.ReadCloser, req *request, s signer) error {
	decoded, err := decodedLength(r.Header)
	if err != nil {
		return err
	}
	cfg := chunkConfig{
		signed:   req.payloadHash != streamingUnsignedTrailer,
		trailer:  req.payloadHash != streamingSigned,
		signer:   s,
		seed:     req.auth.signature,
		decoded:  decoded,
		declared: declaredTrailers(r.Header),
	}
	cr := newChunkReader(body, cfg)
	r.Body = &chunkBody{chunkReader: cr, body: body, req: r}
	r.ContentLength = decoded
	dropAWSChunked(r.Header)
	return nil
}

// decodedLength reads x-amz-decoded-content-length; -1 if absent.
func decodedLength(h http.Header) (int64, error) {
	v := h.Get("X-Amz-Decoded-Content-Length")
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("sigv4: x-amz-decoded-content-length %q: %w", v, ErrMalformedChunk)
	}
	return n, nil
}

// declaredTrailers lists the lowercase names in x-amz-trailer.
func declaredTrailers(h http.Header) []string {
	var names []string
	for _, v := range h.Values("X-Amz-Trailer") {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}

// dropAWSChunked removes aws-chunked from Content-Encoding: the body the
// handler reads is decoded.
func dropAWSChunked(h http.Header) {
	var kept []string
	for _, v := range h.Values("Content-Encoding") {
		for enc := range strings.SplitSeq(v, ",") {
			if enc = strings.TrimSpace(enc); enc != "" && !strings.EqualFold(enc, "aws-chunked") {
				kept = append(kept, enc)
			}
		}
	}
	if len(kept) == 0 {
		h.Del("Content-Encoding")
		return
	}
	h.Set("Content-Encoding", strings.Join(kept, ","))
}

// chunkBody is the r.Body of an aws-chunked request: it closes the original
// body and, at io.EOF, copies the trailers into r.Trailer.
type chunkBody struct {
	*chunkReader
	body io.Closer
	req  *http.Request
}

func (b *chunkBody) Read(p []byte) (int, error) {
	n, err := b.chunkReader.Read(p)
	if err == io.EOF && b.trailers != nil {
		if b.req.Trailer == nil {
			b.req.Trailer = make(http.Header)
		}
		for name, vs := range b.trailers {
			b.req.Trailer.Set(name, vs[0])
		}
		b.trailers = nil
	}
	return n, err
}

func (b *chunkBody) Close() error { return b.body.Close() }

// hashReader passes a body through, hashing it, and at its end returns
// ErrContentSHA256Mismatch instead of io.EOF if the hash is not the signed one.
type hashReader struct {
	body io.ReadCloser
	hash hash.Hash
	want []byte
	err  error // sticky once the end is reached
}

func (h *hashReader) Read(p []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	n, err := h.body.Read(p)
	h.hash.Write(p[:n])
	if err == io.EOF {
		if got := h.hash.Sum(nil); !bytes.Equal(got, h.want) {
			err = fmt.Errorf("sigv4: payload sha256 %x, signed %x: %w", got, h.want, ErrContentSHA256Mismatch)
		}
		h.err = err
	}
	return n, err
}

func (h *hashReader) Close() error { return h.body.Close() }
