package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Sentinel errors: an *Error from a node's answer matches the one of its
// status with errors.Is.
var (
	// ErrBadRequest is 400: a malformed id, level, header or request.
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized is 401: the node requires a token or a signature.
	ErrUnauthorized = errors.New("authentication required")
	// ErrForbidden is 403: a wrong token, key or signature.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound is 404: the node knows no such object (or warm-up job),
	// or the object was deleted (then Error.Deleted is set).
	ErrNotFound = errors.New("not found")
	// ErrConflict is 409: the write would lower the object's level.
	ErrConflict = errors.New("conflict")
	// ErrPreconditionFailed is 412: the object changed between the tries
	// of a resumed read.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrTooLarge is 413: the body is over the node's --max-object-size.
	ErrTooLarge = errors.New("too large")
	// ErrRange is 416: the range is outside the object.
	ErrRange = errors.New("range not satisfiable")
	// ErrTooManyRequests is 429: too many warm-up jobs run already.
	ErrTooManyRequests = errors.New("too many requests")
	// ErrLost is 500 with X-Objstore-Lost: the only copy of the body rotted.
	ErrLost = errors.New("body lost")
	// ErrServer is any other 5xx a node answers that is not retried.
	ErrServer = errors.New("server error")
	// ErrUnavailable is 502, 503 or 504: the origin, or the only node
	// that holds a body, could not be reached by the node.
	ErrUnavailable = errors.New("unavailable")
	// ErrInsufficientStorage is 507: the node's disk holds only copies
	// it may not drop.
	ErrInsufficientStorage = errors.New("insufficient storage")
	// ErrUnreachable is a call whose last try reached no node: the
	// connection failed, or broke before an answer.
	ErrUnreachable = errors.New("unreachable")
	// ErrUnexpected is an answer the client does not understand.
	ErrUnexpected = errors.New("unexpected answer")
)

// Error is a failed call: a node's answer, or a transport error.
type Error struct {
	// Op is the call, e.g. "get 01J…".
	Op string
	// Endpoint is the node the last try went to.
	Endpoint string
	// Status is the node's HTTP status; 0 when no node answered.
	Status int
	// Message is the node's one-line reason, without "error: ".
	Message string
	// Deleted is set on a 404 about an object that was deleted.
	Deleted bool
	// Lost is set on a 500 about a body lost to rot.
	Lost bool
	// Err is the transport error when Status is 0.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "objstore: %s", e.Op)
	if e.Endpoint != "" {
		fmt.Fprintf(&b, " on %s", e.Endpoint)
	}
	if e.Status == 0 {
		err := e.Err
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said already
		}
		if e.ended() {
			fmt.Fprintf(&b, ": %v", err)
		} else {
			fmt.Fprintf(&b, ": unreachable: %v", err)
		}
		return b.String()
	}
	fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	if e.Deleted {
		b.WriteString(" (deleted)")
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// ended reports whether the try failed because the call's context ended,
// not for want of a node.
func (e *Error) ended() bool {
	return e.Status == 0 && (errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded))
}

// Unwrap gives the sentinel of the status (ErrUnreachable when no node
// answered, unless the call's context ended first) and the transport
// error.
func (e *Error) Unwrap() []error {
	if e.ended() {
		return []error{e.Err}
	}
	s := sentinel(e.Status, e.Lost)
	if e.Err != nil {
		return []error{s, e.Err}
	}
	return []error{s}
}

// sentinel is the error a status stands for.
func sentinel(status int, lost bool) error {
	switch status {
	case 0:
		return ErrUnreachable
	case http.StatusBadRequest:
		return ErrBadRequest
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusPreconditionFailed:
		return ErrPreconditionFailed
	case http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case http.StatusRequestedRangeNotSatisfiable:
		return ErrRange
	case http.StatusTooManyRequests:
		return ErrTooManyRequests
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return ErrUnavailable
	case http.StatusInsufficientStorage:
		return ErrInsufficientStorage
	}
	if lost {
		return ErrLost
	}
	if status >= 500 {
		return ErrServer
	}
	return ErrUnexpected
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 4 << 10

// responseError reads a refusal's reason and closes its body.
func responseError(op, endpoint string, resp *http.Response) *Error {
	defer func() { _ = resp.Body.Close() }()                    // read-only, the reason was read
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody)) // a short reason is still a reason
	msg := strings.TrimSpace(string(b))
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		msg = strings.TrimPrefix(msg, "error: ")
	} else {
		msg = "" // JSON (a deleted object's record) or HTML: no reason to show
	}
	return &Error{
		Op: op, Endpoint: endpoint, Status: resp.StatusCode, Message: msg,
		Deleted: resp.Header.Get("X-Meta-Deleted") == "true",
		Lost:    resp.Header.Get("X-Objstore-Lost") == "true",
	}
}
