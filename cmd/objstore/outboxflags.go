package main

import (
	"flag"
	"fmt"
	"time"

	"sphere.software/objstore/internal/node"
)

// OutboxFlags are the options of write-back (node/writeback.go, outbox.go).
type OutboxFlags struct {
	MaxBytes      int64         // --outbox-max-bytes ($APP_OUTBOX_MAX_BYTES): write-back bytes owed to the origin at most
	TakeoverAfter time.Duration // --outbox-takeover-after ($APP_OUTBOX_TAKEOVER_AFTER): a writer down this long has its level-2 uploads taken over
	S3WriteMode   string        // --s3-write-mode ($APP_S3_WRITE_MODE): through or back, for S3 writes that name none
	MaxDefer      time.Duration // --outbox-max-defer ($APP_OUTBOX_MAX_DEFER): how long uploads may wait for write-back PUTs to pause; 0 = at once
}

func defaultOutboxFlags() OutboxFlags {
	return OutboxFlags{MaxBytes: node.DefaultOutboxMaxBytes, TakeoverAfter: node.DefaultTakeoverAfter, S3WriteMode: node.WriteThrough, MaxDefer: node.DefaultOutboxMaxDefer}
}

func (o *OutboxFlags) register(fs *flag.FlagSet, env map[string]string) {
	fs.Func("outbox-max-bytes", "most bytes of write-back PUTs not yet in the origin, e.g. 1GiB; past it write-back PUTs get 507 (S3 API: 503) (default 1GiB)", func(v string) error {
		n, err := parseSize(v)
		o.MaxBytes = n
		return err
	})
	env["outbox-max-bytes"] = "APP_OUTBOX_MAX_BYTES"
	durationFlag(fs, &o.TakeoverAfter, "outbox-takeover-after", "how long the node that took a level-2 write-back PUT must be down before another node uploads it in its place", env, "APP_OUTBOX_TAKEOVER_AFTER")
	durationFlag(fs, &o.MaxDefer, "outbox-max-defer", "while write-back PUTs keep coming, their uploads wait for a 100ms pause, for at most this long (and never past half of --outbox-max-bytes); 0 = upload at once", env, "APP_OUTBOX_MAX_DEFER")
	fs.StringVar(&o.S3WriteMode, "s3-write-mode", o.S3WriteMode, "write mode of S3 writes and deletes that send no X-Objstore-Write: through (origin first, then answer) or back (answer, origin later)")
	env["s3-write-mode"] = "APP_S3_WRITE_MODE"
}

func (o OutboxFlags) validate() error {
	switch {
	case o.MaxBytes <= 0:
		return fmt.Errorf("--outbox-max-bytes %d: want a positive size such as 1GiB", o.MaxBytes)
	case o.TakeoverAfter < time.Second:
		return fmt.Errorf("--outbox-takeover-after %s: want at least 1s", o.TakeoverAfter)
	case o.MaxDefer < 0 || o.MaxDefer > time.Hour:
		return fmt.Errorf("--outbox-max-defer %s: want a duration from 0 (upload at once) to 1h", o.MaxDefer)
	}
	if _, err := node.ParseWriteMode(o.S3WriteMode); err != nil || o.S3WriteMode == "" {
		return fmt.Errorf("--s3-write-mode %q: want %s or %s", o.S3WriteMode, node.WriteThrough, node.WriteBack)
	}
	return nil
}

// nodeConfig is the node's OutboxConfig.
func (o OutboxFlags) nodeConfig() node.OutboxConfig {
	maxDefer := o.MaxDefer
	if maxDefer == 0 {
		maxDefer = -1 // the node's zero is its default
	}
	return node.OutboxConfig{MaxBytes: o.MaxBytes, TakeoverAfter: o.TakeoverAfter, MaxDefer: maxDefer}
}

// s3WriteBack is the S3 API's default write mode.
func (o OutboxFlags) s3WriteBack() bool { return o.S3WriteMode == node.WriteBack }
