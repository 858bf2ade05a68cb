// Package accesslog writes one log line per HTTP request a node answers:
// the API that answered it, the client's address, method, path, status,
// body bytes sent, how long it took and the request's ID
// (internal/requestid: the requestid.Middleware in front of the handler
// gives it; the fast path makes its own).
//
// It wraps an http.Handler for the requests net/http serves, and gives the
// fast path (internal/fastpath) a hook for the requests answered there, so
// that the log shows every request whichever way it was served. The lines
// are slog records with the message "access", written to the logger the
// node is given; answers of the fast path carry fast=true. The query
// string is left out, since presigned S3 URLs
// carry credentials and signatures in it.
package accesslog

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/requestid"
)

// Msg is the message of every access line.
const Msg = "access"

// Log writes access lines to a logger.
type Log struct {
	log *slog.Logger
}

// New returns a Log that writes to log.
func New(log *slog.Logger) *Log { return &Log{log: log} }

// Handler returns h with every request it answers logged as served by api
// (e.g. "native", "s3", "private").
func (l *Log) Handler(api string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		finished := false
		// Deferred so that a handler that aborts its answer with
		// panic(http.ErrAbortHandler) is logged too.
		defer func() {
			status := rec.status
			if status == 0 && finished {
				status = http.StatusOK // net/http's answer to a handler that wrote nothing
			}
			l.write(api, requestid.From(r.Context()), r.RemoteAddr, r.Method, r.URL.Path, status, rec.bytes, time.Since(start), slog.Bool("aborted", !finished))
		}()
		h.ServeHTTP(rec, r)
		finished = true
	})
}

// Fast returns the fast path's answer hook (fastpath.Server.OnAnswer) that
// logs each request answered there as served by api.
func (l *Log) Fast(api string) func(remote net.Addr, req *fastpath.Request, a fastpath.Answer, start time.Time) {
	return func(remote net.Addr, req *fastpath.Request, a fastpath.Answer, start time.Time) {
		method := req.Method()
		var n int64
		if method != http.MethodHead {
			n = int64(len(a.Body))
		}
		l.write(api, string(req.ID()), remote.String(), method, string(req.Path()), statusOf(a.Head), n, time.Since(start), slog.Bool("fast", true))
	}
}

// write logs one access line; id is the request's ID (internal/requestid),
// left out when empty. flag is added when true: "fast" marks an answer of
// the fast path, "aborted" one its handler cut off (the client got a
// broken connection, not a short body).
//
// The record is logged without the request's context, and the ID is
// added here: a node logger (requestid.Handler) would add it a second time.
func (l *Log) write(api, id, remote, method, path string, status int, bytes int64, took time.Duration, flag slog.Attr) {
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.String("api", api), slog.String("remote", remote), slog.String("method", method),
		slog.String("path", path), slog.Int("status", status), slog.Int64("bytes", bytes),
		slog.Duration("duration", took))
	if id != "" {
		attrs = append(attrs, slog.String(requestid.Attr, id))
	}
	if flag.Value.Bool() {
		attrs = append(attrs, flag)
	}
	l.log.LogAttrs(context.Background(), slog.LevelInfo, Msg, attrs...)
}

// statusOf reads the status code from an answer head that starts with a
// status line ("HTTP/1.1 200 OK"); 0 if it does not.
func statusOf(head []byte) int {
	const prefix = len("HTTP/1.1 ")
	if len(head) < prefix+3 {
		return 0
	}
	code := 0
	for _, c := range head[prefix : prefix+3] {
		if c < '0' || c > '9' {
			return 0
		}
		code = code*10 + int(c-'0')
	}
	return code
}

// recorder is a ResponseWriter that notes the status and counts the body
// bytes. It passes ReadFrom through, so that bodies served from files keep
// using sendfile, and Unwrap, for http.ResponseController.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	// 1xx answers (100 Continue) come before the final status.
	if r.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{r.ResponseWriter}, src)
	}
	r.bytes += n
	return n, err
}

// Flush sends what is buffered (a handler may test for http.Flusher).
func (r *recorder) Flush() { _ = r.FlushError() } // as http.Flusher, which has no error to return

// FlushError is Flush for http.ResponseController, which looks for it
// before Flush and Unwrap.
func (r *recorder) FlushError() error {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the wrapped writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// writerOnly hides a writer's ReadFrom, so io.Copy does not call back into
// recorder.ReadFrom.
type writerOnly struct{ io.Writer }
