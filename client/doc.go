// Package client is a Go client of objstore's native HTTP API
// (/api/v1/...): put and get objects as streams, read ranges, look at an
// object's record, raise its consistency level, delete it, list the
// objects, and ask a node about the cluster (members, stats, warm-up).
//
// # Endpoints and failover
//
// A Client is given the public addresses of one or more nodes. Any node
// answers for any object, so a call that cannot reach a node, or that a
// node answers with 502, 503 or 504, is tried on the next one; the node
// that answered last is tried first by the next call.
//
// # Retries
//
// Calls that may be repeated without changing the outcome (every read,
// Delete, SetLevel, and Put of a body that can be sent again) are retried
// on connection errors and on 429, 502, 503 and 504, up to
// Config.MaxAttempts tries in all, with exponential backoff and full
// jitter between rounds over the endpoints. A Put body can be sent again
// when it is an io.ReadSeeker (an *os.File, a *bytes.Reader): the client
// seeks back to where it started. Any other body is retried only when no
// byte of it was read. Starting a warm-up job is retried only when the
// node surely did not start it (it could not be reached, or said 429).
// A Get whose body breaks off mid-stream resumes from the byte it reached
// with a range request on the next node, pinned to the same version by its
// ETag. Every call takes a context, which bounds all of its tries.
//
// # Errors
//
// A node's refusal is an *Error carrying the status and the node's reason;
// match it with errors.Is against ErrNotFound, ErrConflict, ErrUnavailable
// and the other sentinels, and with errors.As for the details. A call that
// reached no node wraps ErrUnreachable.
//
// # Authentication
//
// A node run with --native-api-auth on wants a bearer token
// (Config.Token, its --native-api-token) or an AWS Signature Version 4 by
// one of its S3 API keys (Config.AccessKey and Config.SecretKey).
package client
