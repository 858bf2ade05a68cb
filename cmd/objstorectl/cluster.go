package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"sphere.software/objstore/client"
)

func runPing(ctx context.Context, a *app, _ []string) error {
	id, err := a.c.Ping(ctx)
	if err != nil {
		return err
	}
	if a.opts.json {
		return printJSON(a.stdout, map[string]string{"node_id": id})
	}
	_, err = fmt.Fprintln(a.stdout, id)
	return err
}

func runNodes(ctx context.Context, a *app, _ []string) error {
	ms, err := a.c.Nodes(ctx)
	if err != nil {
		return err
	}
	if a.opts.json {
		return printJSON(a.stdout, ms)
	}
	t := newTable(a.stdout, "ID", "ADDR", "STATE", "")
	for _, m := range ms {
		self := ""
		if m.Self {
			self = "(answering)"
		}
		t.row(m.ID, m.Addr, m.State, self)
	}
	return t.flush()
}

func runStats(ctx context.Context, a *app, _ []string) error {
	s, err := a.c.Stats(ctx)
	if err != nil {
		return err
	}
	if a.opts.json {
		_, err := a.stdout.Write(append(s.Raw, '\n'))
		return err
	}
	alive := 0
	for _, m := range s.Nodes {
		if m.State == "alive" {
			alive++
		}
	}
	sv := s.Savings.Total
	t := newTable(a.stdout)
	t.row("node:", s.NodeID)
	t.row("members:", fmt.Sprintf("%d, %d alive", len(s.Nodes), alive))
	t.row("objects:", fmt.Sprintf("%d (%s), %d tombstones", s.Objects.Objects, bytesIEC(s.Objects.Bytes), s.Objects.Tombstones))
	t.row("disk:", fmt.Sprintf("%s of bodies here; file system %s used of %s", bytesIEC(s.Disk.Bodies),
		bytesIEC(int64(s.Disk.Used)), bytesIEC(int64(s.Disk.Total))))
	if s.Disk.Quota > 0 {
		t.row("quota:", bytesIEC(s.Disk.Quota))
	}
	t.row("hits:", fmt.Sprintf("%d local, %d peer, %d origin; %d misses", s.Hits.Local, s.Hits.Peer, s.Hits.Remote, s.Misses))
	if s.Origin != nil {
		origin := s.Origin.State
		if s.Origin.Error != "" {
			origin += ": " + s.Origin.Error
		}
		t.row("origin:", origin)
	}
	t.row("reads:", fmt.Sprintf("memory %d, disk %d, peer %d, origin %d; origin GETs avoided %d (%s)",
		sv.Memory.Requests, sv.Disk.Requests, sv.Peer.Requests, sv.Origin.Requests, sv.Avoided.Requests, bytesIEC(sv.Avoided.Bytes)))
	t.row("saved:", fmt.Sprintf("$%.6f since %s", s.Savings.USDSaved, s.Savings.Since.UTC().Format(time.RFC3339)))
	return t.flush()
}

func setupWarm(fs *flag.FlagSet) runFunc {
	var keys string
	var concurrency int
	var noWait bool
	fs.StringVar(&keys, "keys", "", "warm the keys listed in this `file`, one a line (- = stdin), instead of a prefix")
	fs.IntVar(&concurrency, "concurrency", 0, "objects fetched at once, 1 to 64; 0 = the node's default (8)")
	fs.BoolVar(&noWait, "no-wait", false, "print the job and return at once, without waiting for it to end")
	return func(ctx context.Context, a *app, args []string) error {
		req := client.WarmPrefix(args[0], "")
		switch {
		case keys != "" && len(args) == 2:
			return usagef("warm: give a PREFIX or --keys, not both")
		case keys != "":
			list, err := a.readKeys(keys)
			if err != nil {
				return err
			}
			req = client.WarmKeys(args[0], list...)
		case len(args) == 2:
			req = client.WarmPrefix(args[0], args[1])
		}
		req.Concurrency = concurrency
		return a.warm(ctx, req, !noWait)
	}
}

// readKeys reads one key a line from path ("-": stdin), skipping blanks.
func (a *app) readKeys(path string) ([]string, error) {
	var r io.Reader = a.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }() // read-only
		r = f
	}
	var keys []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if k := strings.TrimSpace(sc.Text()); k != "" {
			keys = append(keys, k)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, usagef("warm: no keys in %s", path)
	}
	return keys, nil
}

// warmPoll is how long one progress request waits for the job's end: the
// progress line moves at least this often.
const warmPoll = time.Second

// errWarmFailed is a warm-up that ended with keys not fetched.
var errWarmFailed = errors.New("warm-up failed")

// warm starts a job and, when wait is set, follows it to its end.
func (a *app) warm(ctx context.Context, req client.WarmRequest, wait bool) error {
	j, err := a.c.Warm(ctx, req)
	if err == nil && wait {
		show := a.progress()
		j, err = a.c.WaitWarm(ctx, j.ID, warmPoll, func(j *client.WarmJob) {
			if show {
				fmt.Fprintf(a.stderr, "\rwarm %s: %d of %d done (%d cached, %d failed), %s fetched   ",
					j.ID, j.Done, j.Listed, j.Cached, j.Failed, bytesIEC(j.BytesFetched))
			}
		})
		if show {
			fmt.Fprintln(a.stderr)
		}
	}
	if err != nil {
		return err
	}
	if a.opts.json {
		if err := printJSON(a.stdout, j); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "%s %s: %d listed, %d done (%d cached), %d failed, %s fetched\n",
			j.ID, j.State, j.Listed, j.Done, j.Cached, j.Failed, bytesIEC(j.BytesFetched))
		for _, e := range j.Errors {
			fmt.Fprintf(a.stdout, "  %s\n", e)
		}
	}
	switch {
	case j.State == client.WarmFailed:
		return fmt.Errorf("%w: job %s stopped: %s", errWarmFailed, j.ID, j.Error)
	case j.State == client.WarmDone && j.Failed > 0:
		return fmt.Errorf("%w: %d of %d keys not fetched", errWarmFailed, j.Failed, j.Listed)
	}
	return nil
}
