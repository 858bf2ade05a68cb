package peerapi

import "errors"

// Sentinel errors of this package. They sit here rather than in the root
// package because only replication produces them; match them with errors.Is.
var (
	// ErrPeer means a peer could not be reached, failed a request or sent
	// an answer that does not decode. The error also wraps the cause (a
	// transport error, context.Canceled, ErrMalformed) when there is one.
	// A peer that does not hold a body wraps objstore.ErrNotFound instead.
	ErrPeer = errors.New("peer failure")
	// ErrMalformed means a request or response body, a version or a key
	// that does not decode.
	ErrMalformed = errors.New("malformed")
)
