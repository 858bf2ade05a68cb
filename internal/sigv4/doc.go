// Package sigv4 verifies AWS Signature Version 4 on requests to the
// S3-compatible endpoint, so that existing S3 clients and SDKs can talk to
// the cache with their usual credentials.
//
// A Verifier holds the accepted access keys, the region signatures must be
// scoped to (us-east-1 unless configured) and a clock. Verify authenticates
// one *http.Request and returns the access key that signed it; the errors it
// returns wrap sentinel errors that Code maps to S3 error codes and statuses.
//
// # Signatures
//
// Two ways of signing are accepted, one per request:
//
//   - The Authorization header: "AWS4-HMAC-SHA256 Credential=…,
//     SignedHeaders=…, Signature=…", dated by x-amz-date or, failing that,
//     Date, which must be within 15 minutes of the server clock
//     (RequestTimeTooSkewed otherwise). x-amz-content-sha256 is required.
//   - Presigned URLs: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
//     X-Amz-Expires (1 to 604800 seconds), X-Amz-SignedHeaders and
//     X-Amz-Signature in the query. The payload is UNSIGNED-PAYLOAD unless
//     X-Amz-Content-Sha256 is in the query too.
//
// The canonical request follows S3's rules, which differ from other
// services: the path is not normalised and is URI-encoded once (each byte
// but A-Z a-z 0-9 - . _ ~ and '/' as %XX), which is what SDKs sign for keys
// with spaces, '+', '%', '~' or UTF-8. A client that signed its own escaping
// of the path as sent is accepted too. Query parameters are decoded, then
// re-encoded and sorted by name and value, empty values kept, X-Amz-Signature
// left out for presigned URLs. Header values are trimmed with inner runs of
// spaces collapsed, repeated headers joined by ','; host is r.Host with its
// port and must be signed. As S3 does, a request whose x-amz-* headers are
// not all signed is refused. The credential scope must name the configured
// region, the service s3 and the request's date. Session tokens (STS) and
// SigV4A are not supported.
//
// # Payloads
//
// x-amz-content-sha256 says how the payload is covered, and Verify replaces
// r.Body accordingly:
//
//   - a hex SHA-256: the body is hashed as it is read and the last Read
//     returns ErrContentSHA256Mismatch instead of io.EOF if it differs;
//   - UNSIGNED-PAYLOAD: the body is left alone;
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD: the aws-chunked body is decoded
//     and every chunk signature checked, each chained from the previous one
//     starting with the request signature, so altered, reordered, dropped or
//     added chunks fail;
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the same, and the
//     trailers after the final chunk are checked against
//     x-amz-trailer-signature;
//   - STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked framing without
//     signatures; integrity rests on the checksum trailer.
//
// For aws-chunked bodies the reader yields the decoded bytes only, fails
// with ErrMalformedChunk if they do not add up to
// x-amz-decoded-content-length, checks x-amz-checksum-crc32, -crc32c,
// -crc64nvme, -sha1 and -sha256 trailers (ErrChecksumMismatch), requires the
// trailers named in x-amz-trailer and no others, and copies them to
// r.Trailer at io.EOF. Verify sets r.ContentLength to the decoded length
// and removes aws-chunked from Content-Encoding.
//
// Payloads are streamed: memory stays bounded whatever their size, because
// nothing is buffered beyond a 4 KiB line buffer. The price is that bytes
// are handed on before the check that covers them (the whole body for a
// SHA-256, the chunk for aws-chunked) completes, so a handler must treat a
// body as authentic only once Read has returned io.EOF, and discard what it
// wrote otherwise.
package sigv4
