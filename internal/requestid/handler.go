package requestid

import (
	"context"
	"log/slog"
)

// Handler is a slog.Handler that adds the request ID of a record's context
// (as request_id) before passing the record on. Code that logs about a
// request logs with its context (log.WarnContext(ctx, …)) and the line
// names the request, whatever part of the node writes it.
type Handler struct {
	next slog.Handler
}

var _ slog.Handler = Handler{}

// NewHandler wraps next.
func NewHandler(next slog.Handler) Handler { return Handler{next: next} }

// Enabled is next's.
func (h Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the request ID, if ctx has one, and passes r on.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		r = r.Clone() // the caller may hand r to other handlers too
		r.AddAttrs(slog.String(Attr, id))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs keeps the wrapper around next's.
func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{next: h.next.WithAttrs(attrs)}
}

// WithGroup keeps the wrapper around next's. Attributes of a group opened
// here go in the group, the request ID with them: loggers in this
// code base use With, not WithGroup.
func (h Handler) WithGroup(name string) slog.Handler {
	return Handler{next: h.next.WithGroup(name)}
}
