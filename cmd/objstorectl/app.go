package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"sphere.software/objstore/client"
)

// env is what the process gives the command: its environment and streams.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// options are the flags every command takes, before or after its name.
type options struct {
	endpoints string
	token     string
	accessKey string
	secretKey string
	region    string
	json      bool
	quiet     bool
	timeout   time.Duration
	attempts  int
}

// register adds the common flags to fs, their defaults the values o holds.
func (o *options) register(fs *flag.FlagSet) {
	fs.StringVar(&o.endpoints, "endpoint", o.endpoints, "comma-separated public `addresses` of nodes, tried in order ($OBJSTORE_ENDPOINT)")
	fs.StringVar(&o.endpoints, "e", o.endpoints, "short for --endpoint")
	fs.StringVar(&o.token, "token", o.token, "bearer `token` of a node with --native-api-auth on ($OBJSTORE_TOKEN)")
	fs.StringVar(&o.accessKey, "access-key", o.accessKey, "S3 API access `key` to sign requests with ($OBJSTORE_ACCESS_KEY)")
	fs.StringVar(&o.secretKey, "secret-key", o.secretKey, "S3 API secret `key` ($OBJSTORE_SECRET_KEY)")
	fs.StringVar(&o.region, "region", o.region, "the nodes' `region` (-R) for signatures ($OBJSTORE_REGION)")
	fs.BoolVar(&o.json, "json", o.json, "print JSON instead of text")
	fs.BoolVar(&o.quiet, "q", o.quiet, "no progress bars")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "give up after this `duration`; 0 = never")
	fs.IntVar(&o.attempts, "attempts", o.attempts, "tries of one request over all endpoints; 1 = no retry")
}

// defaultOptions reads the environment's defaults.
func defaultOptions(getenv func(string) string) options {
	o := options{
		endpoints: getenv("OBJSTORE_ENDPOINT"), token: getenv("OBJSTORE_TOKEN"),
		accessKey: getenv("OBJSTORE_ACCESS_KEY"), secretKey: getenv("OBJSTORE_SECRET_KEY"),
		region: getenv("OBJSTORE_REGION"), attempts: client.DefaultMaxAttempts,
	}
	if o.endpoints == "" {
		o.endpoints = "127.0.0.1:10999"
	}
	return o
}

// command is one subcommand.
type command struct {
	name    string
	args    string // the positional arguments, for usage
	summary string
	// min and max bound the positional arguments; max -1 is no bound.
	min, max int
	// setup registers the command's own flags on fs, in a value of their
	// own, and returns the function that runs the command with them.
	setup func(fs *flag.FlagSet) runFunc
}

// runFunc runs a command with its positional arguments.
type runFunc func(ctx context.Context, a *app, args []string) error

// noFlags is the setup of a command without flags of its own.
func noFlags(run runFunc) func(*flag.FlagSet) runFunc {
	return func(*flag.FlagSet) runFunc { return run }
}

// app is one run of the command.
type app struct {
	env
	opts options
	c    *client.Client
}

func run(ctx context.Context, args []string, e env) int {
	a := &app{env: e, opts: defaultOptions(e.getenv)}
	err := a.main(ctx, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	code := exitCode(ctx, err)
	if err != nil {
		fmt.Fprintf(a.stderr, "objstorectl: %s\n", strings.TrimPrefix(err.Error(), "objstore: "))
		if code == exitUsage {
			fmt.Fprintln(a.stderr, "Run 'objstorectl help' for usage.")
		}
	}
	return code
}

// main parses the command line and runs the command it names.
func (a *app) main(ctx context.Context, args []string) error {
	global := flag.NewFlagSet("objstorectl", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	a.opts.register(global)
	if err := global.Parse(args); err != nil {
		return a.flagError(err, nil)
	}
	args = global.Args()
	if len(args) == 0 {
		a.usage(a.stderr)
		return usagef("no command given")
	}
	name, args := args[0], args[1:]
	if name == "help" {
		return a.help(args)
	}
	cmd := findCommand(name)
	if cmd == nil {
		return usagef("unknown command %q", name)
	}
	fs := flag.NewFlagSet("objstorectl "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.opts.register(fs)
	runCmd := cmd.setup(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return a.flagError(err, cmd)
	}
	if len(pos) < cmd.min || cmd.max >= 0 && len(pos) > cmd.max {
		return usagef("%s: want %s", cmd.name, strings.TrimSpace("objstorectl "+cmd.name+" "+cmd.args))
	}
	if err := a.connect(); err != nil {
		return err
	}
	if a.opts.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.opts.timeout)
		defer cancel()
	}
	return runCmd(ctx, a, pos)
}

// flagError turns a flag package error into a usage error; -h prints the
// usage and succeeds.
func (a *app) flagError(err error, cmd *command) error {
	if errors.Is(err, flag.ErrHelp) {
		if cmd != nil {
			a.commandUsage(a.stdout, cmd)
		} else {
			a.usage(a.stdout)
		}
		return err
	}
	return usagef("%v", err)
}

// parseInterleaved parses fs's flags wherever they stand among the
// positional arguments, which it returns; after "--" everything is
// positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// connect makes the client from the options.
func (a *app) connect() error {
	var eps []string
	for e := range strings.SplitSeq(a.opts.endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	if a.opts.attempts < 1 {
		return usagef("--attempts %d: want 1 or more", a.opts.attempts)
	}
	c, err := client.New(client.Config{
		Endpoints: eps, Token: a.opts.token, AccessKey: a.opts.accessKey, SecretKey: a.opts.secretKey,
		Region: a.opts.region, MaxAttempts: a.opts.attempts, UserAgent: "objstorectl",
	})
	if err != nil {
		return usagef("%v", strings.TrimPrefix(err.Error(), "client: "))
	}
	a.c = c
	return nil
}

func findCommand(name string) *command {
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		return nil
	}
	return &commands[i]
}

// help prints the usage of everything or of one command.
func (a *app) help(args []string) error {
	if len(args) == 0 {
		a.usage(a.stdout)
		return nil
	}
	cmd := findCommand(args[0])
	if cmd == nil {
		return usagef("unknown command %q", args[0])
	}
	a.commandUsage(a.stdout, cmd)
	return nil
}

func (a *app) usage(w io.Writer) {
	fmt.Fprint(w, "Usage: objstorectl [flags] <command> [arguments]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-7s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nFlags (before or after the command):\n")
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	o := defaultOptions(a.getenv)
	o.register(fs)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, "\nExit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 unreachable, 5 refused, 6 conflict, 130 interrupted.\n")
}

func (a *app) commandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: objstorectl %s %s\n\n%s\n", c.name, c.args, c.summary)
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	c.setup(fs)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprint(w, "\nand the common flags of 'objstorectl help'.\n")
}

// isTerminal reports whether w is a terminal: progress bars go only there.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress reports whether progress bars are shown.
func (a *app) progress() bool { return !a.opts.quiet && isTerminal(a.stderr) }

// parseLevel reads a level argument.
func parseLevel(s string) (client.Level, error) {
	l, err := client.ParseLevel(s)
	if err != nil {
		return 0, usagef("%v", err)
	}
	return l, nil
}

// parseCount reads a non-negative count argument.
func parseCount(what, s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, usagef("%s %q: want a number, 0 or more", what, s)
	}
	return n, nil
}
