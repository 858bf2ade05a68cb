package main

import (
	"flag"
	"fmt"

	"sphere.software/objstore/internal/deadline"
	"sphere.software/objstore/internal/peerapi"
	"sphere.software/objstore/internal/s3"
)

// DeadlineFlags are the bounds of requests to the origin (--origin-*-timeout)
// and to peers (--peer-*-timeout); see package deadline.
type DeadlineFlags struct {
	Origin deadline.Config
	Peer   deadline.Config
}

func defaultDeadlineFlags() DeadlineFlags {
	return DeadlineFlags{Origin: s3.DefaultDeadlines, Peer: peerapi.DefaultDeadlines}
}

// register adds the six flags and their environment variables.
func (d *DeadlineFlags) register(fs *flag.FlagSet, env map[string]string) {
	for _, side := range []struct {
		name, envName, what string
		cfg                 *deadline.Config
	}{
		{"origin", "APP_ORIGIN", "the origin (S3)", &d.Origin},
		{"peer", "APP_PEER", "a peer", &d.Peer},
	} {
		durationFlag(fs, &side.cfg.Connect, side.name+"-connect-timeout",
			"bound of a connect to "+side.what, env, side.envName+"_CONNECT_TIMEOUT")
		durationFlag(fs, &side.cfg.FirstByte, side.name+"-first-byte-timeout",
			"bound of the wait for the answer of "+side.what+" once a request is sent", env, side.envName+"_FIRST_BYTE_TIMEOUT")
		durationFlag(fs, &side.cfg.Progress, side.name+"-progress-timeout",
			"bound of the silence between bytes, either way, of a transfer with "+side.what, env, side.envName+"_PROGRESS_TIMEOUT")
	}
}

// validate wants every bound positive: zero would mean none.
func (d DeadlineFlags) validate() error {
	for _, side := range []struct {
		name string
		cfg  deadline.Config
	}{{"origin", d.Origin}, {"peer", d.Peer}} {
		if side.cfg.Connect <= 0 || side.cfg.FirstByte <= 0 || side.cfg.Progress <= 0 {
			return fmt.Errorf("--%s-connect-timeout, --%s-first-byte-timeout and --%s-progress-timeout must be positive", side.name, side.name, side.name)
		}
	}
	return nil
}
