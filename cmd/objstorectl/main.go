// Command objstorectl is the command-line client of objstore's native API:
// put and get files (with progress bars on a terminal), list, stat,
// delete and raise the level of objects, and look at the cluster (nodes,
// stats, warm-up). It is built on the client package, and is a binary of
// its own so that the objstore binary keeps running a node with its own
// flags and exit codes (see docs/DESIGN.md, "Client and CLI").
//
// Exit codes, for scripts:
//
//	0  ok
//	1  error (a local file that cannot be read or written, a node's 5xx, a
//	   warm-up that failed keys, --timeout expired, …)
//	2  usage: unknown command or flag, wrong arguments
//	3  not found: no such object (or it was deleted), or warm-up job
//	4  unreachable: no node answered, or the node could not reach the
//	   origin or the node holding the body (502, 503, 504)
//	5  refused: authentication required or wrong (401, 403)
//	6  conflict: the level would be lowered (409)
//	130 interrupted (Ctrl-C)
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], env{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}
