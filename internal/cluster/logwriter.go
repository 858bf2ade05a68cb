package cluster

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// rejectedMsg is logged (at warn) when memberlist drops gossip that another
// cluster sent: its label (tag) or its key does not match ours.
const rejectedMsg = "cluster: rejected gossip from a node of another cluster: cluster tag mismatch or wrong cluster key?"

// rejectionSigns are fragments of memberlist's log lines for gossip it
// drops because the sender's label or key differs from ours (memberlist
// v0.7.0 net.go: handleConn, ingestPacket, readStream).
var rejectionSigns = []string{
	"unacceptable label",                // another tag
	"could decrypt",                     // "No installed keys could decrypt the message": another key
	"Decrypt packet failed",             // another key, UDP
	"remote state is encrypted and",     // a keyed sender, we have no key
	"but remote state is not encrypted", // we have a key, the sender none
}

// newMemberlistLogger returns a *log.Logger for memberlist's Config.Logger
// that writes into l.
func newMemberlistLogger(l *slog.Logger) *log.Logger {
	return log.New(logWriter{l: l}, "", 0)
}

// logWriter turns memberlist's log lines ("[LEVEL] memberlist: text") into
// slog records at the matching level.
type logWriter struct{ l *slog.Logger }

// Write implements io.Writer; memberlist writes one line per call.
func (w logWriter) Write(p []byte) (int, error) {
	level, msg := parseLogLine(string(p))
	if level >= slog.LevelWarn && isRejection(msg) {
		w.l.Warn(rejectedMsg, "detail", msg)
		return len(p), nil
	}
	w.l.Log(context.Background(), level, "memberlist: "+msg)
	return len(p), nil
}

// parseLogLine splits a memberlist log line into its level and text.
func parseLogLine(line string) (slog.Level, string) {
	line = strings.TrimSpace(line)
	level := slog.LevelInfo
	if rest, ok := strings.CutPrefix(line, "["); ok {
		if tag, text, ok := strings.Cut(rest, "]"); ok {
			level, line = levelOf(tag), strings.TrimSpace(text)
		}
	}
	line = strings.TrimPrefix(line, "memberlist: ")
	return level, line
}

func levelOf(tag string) slog.Level {
	switch tag {
	case "DEBUG", "TRACE":
		return slog.LevelDebug
	case "WARN", "WARNING":
		return slog.LevelWarn
	case "ERR", "ERROR":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func isRejection(msg string) bool {
	for _, s := range rejectionSigns {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
