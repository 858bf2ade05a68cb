package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"sphere.software/objstore/internal/accesslog"
	"sphere.software/objstore/internal/fastpath"
)

// accessLog is the access log that --access-log asks for; nil when off,
// so that the servers then run without its wrapper and hook.
type accessLog struct {
	log  *accesslog.Log
	file *os.File // the file the lines go to; nil when they go to the node's log
}

// openAccessLog opens the access log of spec: "off" (or empty) for none,
// "on" for lines in the node's log, or else a file path, appended to, its
// lines in format (--log-format).
func openAccessLog(spec, format string, nodeLog *slog.Logger) (*accessLog, error) {
	switch spec {
	case "", "off":
		return nil, nil
	case "on":
		return &accessLog{log: accesslog.New(nodeLog)}, nil
	}
	f, err := os.OpenFile(spec, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("--access-log: %w", err)
	}
	return &accessLog{log: accesslog.New(slog.New(logHandler(f, format, nil))), file: f}, nil
}

// Handler is h, logging its requests as served by api when the log is on.
func (a *accessLog) Handler(api string, h http.Handler) http.Handler {
	if a == nil {
		return h
	}
	return a.log.Handler(api, h)
}

// Fast is the fast path's answer hook for api, nil when the log is off.
func (a *accessLog) Fast(api string) func(net.Addr, *fastpath.Request, fastpath.Answer, time.Time) {
	if a == nil {
		return nil
	}
	return a.log.Fast(api)
}

// Close closes the log's file, if it has one.
func (a *accessLog) Close() error {
	if a == nil || a.file == nil {
		return nil
	}
	return a.file.Close()
}
