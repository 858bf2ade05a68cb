package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"sphere.software/objstore/internal/requestid"
)

// OpsFlags are the options about how a node shows itself to operators:
// the format of its logs and what its readiness requires (health.go).
type OpsFlags struct {
	LogFormat string // --log-format ($APP_LOG_FORMAT): text (slog's key=value) or json
	// ReadyWithoutOrigin (--ready-without-origin, $APP_READY_WITHOUT_ORIGIN)
	// keeps /readyz at 200 while the origin is bad, saying "degraded":
	// for a cluster that should keep serving what it holds.
	ReadyWithoutOrigin bool
}

func defaultOpsFlags() OpsFlags { return OpsFlags{LogFormat: "text"} }

func (o *OpsFlags) register(fs *flag.FlagSet, env map[string]string) {
	fs.StringVar(&o.LogFormat, "log-format", o.LogFormat, "log and access log line format: text or json")
	env["log-format"] = "APP_LOG_FORMAT"
	boolFlag(fs, &o.ReadyWithoutOrigin, "ready-without-origin", "keep /readyz at 200 (degraded) while the origin cannot be used", env, "APP_READY_WITHOUT_ORIGIN")
}

func (o OpsFlags) validate() error {
	if o.LogFormat != "text" && o.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", o.LogFormat)
	}
	return nil
}

// newLogger is the node's logger on w in format ("text" or "json"), at
// debug level when debug > 0. Records logged with a request's context
// name the request (requestid.Handler).
func newLogger(w io.Writer, format string, debug int) *slog.Logger {
	level := slog.LevelInfo
	if debug > 0 {
		level = slog.LevelDebug
	}
	return slog.New(requestid.NewHandler(logHandler(w, format, &slog.HandlerOptions{Level: level})))
}

// logHandler is slog's handler for format on w.
func logHandler(w io.Writer, format string, opts *slog.HandlerOptions) slog.Handler {
	if format == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}
