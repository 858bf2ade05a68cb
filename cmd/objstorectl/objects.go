package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sphere.software/objstore/client"
)

// putResult is what put prints with --json.
type putResult struct {
	ID           string          `json:"id"`
	Name         string          `json:"name,omitempty"`
	Size         int64           `json:"size"`
	Level        client.Level    `json:"level"`
	ETag         string          `json:"etag"`
	LastModified time.Time       `json:"last_modified"`
	UserMeta     json.RawMessage `json:"user_meta,omitempty"`
}

func setupPut(fs *flag.FlagSet) runFunc {
	var id, name, level, meta string
	fs.StringVar(&id, "id", "", "object `id` (a ULID) to write; empty = a new one")
	fs.StringVar(&name, "name", "", "file `name` kept with the object; default: the file's base name")
	fs.StringVar(&level, "level", "0", "consistency `level`: 0 this node, 1 and the origin, 2 and every node")
	fs.StringVar(&meta, "meta", "", "user metadata: a JSON `object` of at most 1 KiB")
	return func(ctx context.Context, a *app, args []string) error {
		l, err := parseLevel(level)
		if err != nil {
			return err
		}
		opts := client.PutOptions{Name: name, Level: l}
		if meta != "" {
			if !json.Valid([]byte(meta)) || !strings.HasPrefix(strings.TrimSpace(meta), "{") {
				return usagef("--meta: want a JSON object, got %q", meta)
			}
			opts.UserMeta = json.RawMessage(meta)
		}
		return a.put(ctx, args[0], id, opts)
	}
}

// put stores the file at path ("-": stdin) under id.
func (a *app) put(ctx context.Context, path, id string, opts client.PutOptions) error {
	src, size, err := a.openInput(path)
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }() // read-only
	if opts.Name == "" && path != "-" {
		opts.Name = filepath.Base(path)
	}
	b := startBar(a.progress(), a.stderr, "put "+path, size)
	counted := &countingReader{r: src, b: b}
	body := io.Reader(counted)
	if s, ok := src.(io.Seeker); ok && path != "-" {
		body = &countingReadSeeker{countingReader: counted, s: s}
	}
	in, err := a.c.Put(ctx, id, body, size, opts)
	b.Stop()
	if err != nil {
		return err
	}
	size = counted.n // stdin's size is known now
	if a.opts.json {
		return printJSON(a.stdout, putResult{ID: in.ID, Name: in.Name, Size: size, Level: in.Level, ETag: in.ETag,
			LastModified: in.LastModified, UserMeta: in.UserMeta})
	}
	_, err = fmt.Fprintln(a.stdout, in.ID)
	return err
}

// openInput opens a file to put and gives its size; stdin's is unknown.
func (a *app) openInput(path string) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(a.stdin), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		err = fmt.Errorf("%s is a directory", path)
	}
	if err != nil {
		_ = f.Close() // read-only
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func setupGet(fs *flag.FlagSet) runFunc {
	var out, rng string
	var fetch bool
	fs.StringVar(&out, "o", "-", "write to this `file` (written whole, then renamed into place); - = stdout")
	fs.StringVar(&rng, "range", "", "bytes `START-END` (inclusive), START- to the end, or -N the last N")
	fs.BoolVar(&fetch, "fetch", false, "read an id no node knows from the origin")
	return func(ctx context.Context, a *app, args []string) error {
		opts, err := parseRange(rng)
		if err != nil {
			return err
		}
		opts.Fetch = fetch
		return a.get(ctx, args[0], out, opts)
	}
}

// parseRange reads --range into GetOptions.
func parseRange(s string) (client.GetOptions, error) {
	if s == "" {
		return client.GetOptions{}, nil
	}
	first, last, ok := strings.Cut(s, "-")
	if !ok {
		return client.GetOptions{}, usagef("--range %q: want START-END, START- or -N", s)
	}
	if first == "" {
		n, err := parseCount("--range", last)
		if err != nil || n == 0 {
			return client.GetOptions{}, usagef("--range %q: want -N with N above 0", s)
		}
		return client.GetOptions{Offset: -n}, nil
	}
	start, err := parseCount("--range start", first)
	if err != nil {
		return client.GetOptions{}, err
	}
	if last == "" {
		return client.GetOptions{Offset: start}, nil
	}
	end, err := parseCount("--range end", last)
	if err != nil || end < start {
		return client.GetOptions{}, usagef("--range %q: want START-END with END at or after START", s)
	}
	return client.GetOptions{Offset: start, Length: end - start + 1}, nil
}

// get reads id to the file out ("-": stdout).
func (a *app) get(ctx context.Context, id, out string, opts client.GetOptions) error {
	obj, err := a.c.Get(ctx, id, opts)
	if err != nil {
		return err
	}
	defer func() { _ = obj.Close() }() // read-only
	dst, commit, err := a.openOutput(out)
	if err != nil {
		return err
	}
	b := startBar(a.progress(), a.stderr, "get "+id, obj.Size)
	n, err := io.Copy(&countingWriter{w: dst, b: b}, obj)
	b.Stop()
	if err == nil && obj.Size >= 0 && n != obj.Size {
		err = fmt.Errorf("get %s: %d of %d bytes", id, n, obj.Size)
	}
	if err = commit(err); err != nil {
		return err
	}
	if a.opts.json && out != "-" {
		return printJSON(a.stdout, objectJSON(obj))
	}
	return nil
}

// openOutput opens where get writes: stdout, or a temporary file beside
// path that commit renames onto it, so that a failed get leaves no partial
// file behind. commit takes the copy's error and returns the final one.
func (a *app) openOutput(path string) (io.Writer, func(error) error, error) {
	if path == "-" {
		return a.stdout, func(err error) error { return err }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.part")
	if err != nil {
		return nil, nil, err
	}
	commit := func(err error) error {
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), path)
		}
		if err != nil {
			_ = os.Remove(f.Name()) // the partial file; the error says why
		}
		return err
	}
	return f, commit, nil
}

// getJSON is what get prints with --json and -o.
type getJSON struct {
	putResult
	Offset      int64  `json:"offset"`
	Total       int64  `json:"total"`
	ContentType string `json:"content_type"`
	Symlink     bool   `json:"symlink,omitempty"`
	Fetched     bool   `json:"fetched,omitempty"`
}

func objectJSON(o *client.Object) getJSON {
	return getJSON{putResult: putResult{ID: o.ID, Name: o.Name, Size: o.Size, Level: o.Level, ETag: o.ETag,
		LastModified: o.LastModified, UserMeta: o.UserMeta},
		Offset: o.Offset, Total: o.Total, ContentType: o.ContentType, Symlink: o.Symlink, Fetched: o.Fetched}
}

func runStat(ctx context.Context, a *app, args []string) error {
	m, err := a.c.Meta(ctx, args[0])
	if err != nil {
		return err
	}
	if a.opts.json {
		return printJSON(a.stdout, m)
	}
	t := newTable(a.stdout)
	t.row("id:", m.ID)
	t.row("name:", m.Name)
	t.row("size:", fmt.Sprintf("%d (%s)", m.Size, bytesIEC(m.Size)))
	t.row("level:", m.Level)
	t.row("modified:", m.Modified().UTC().Format(time.RFC3339Nano))
	t.row("etag:", m.ETag)
	t.row("crc32c:", m.CRC32C)
	t.row("content type:", m.ContentType)
	t.row("in origin:", m.InRemote)
	t.row("body here:", !m.Symlink)
	if len(m.UserMeta) > 0 && string(m.UserMeta) != "null" {
		t.row("user meta:", string(m.UserMeta))
	}
	if m.Lost {
		t.row("lost:", "true (the only copy of the body failed its checksum)")
	}
	return t.flush()
}

func setupLs(fs *flag.FlagSet) runFunc {
	var after string
	var limit int
	fs.StringVar(&after, "after", "", "start after this `id`")
	fs.IntVar(&limit, "limit", 0, "list at most `n` objects; 0 = all")
	return func(ctx context.Context, a *app, _ []string) error {
		if limit < 0 {
			return usagef("--limit %d: want 0 (all) or more", limit)
		}
		return a.ls(ctx, after, limit)
	}
}

// ls prints the objects after after, at most limit (0: all). JSON is an
// array written as it goes, so a long listing streams.
func (a *app) ls(ctx context.Context, after string, limit int) error {
	var t *table
	if a.opts.json {
		fmt.Fprint(a.stdout, "[")
	} else {
		t = newTable(a.stdout, "ID", "SIZE", "LEVEL", "MODIFIED", "NAME")
	}
	n := 0
	var err error
	for m, ierr := range a.c.Objects(ctx, after) {
		if err = ierr; err != nil || limit > 0 && n == limit {
			break
		}
		if a.opts.json {
			b, merr := json.Marshal(m)
			if merr != nil {
				return fmt.Errorf("ls: %w", merr)
			}
			fmt.Fprintf(a.stdout, "%s\n  %s", map[bool]string{true: "", false: ","}[n == 0], b)
		} else {
			t.row(m.ID, bytesIEC(m.Size), m.Level, m.Modified().UTC().Format(time.RFC3339), m.Name)
		}
		n++
	}
	if a.opts.json {
		fmt.Fprint(a.stdout, map[bool]string{true: "]\n", false: "\n]\n"}[n == 0])
		return err
	}
	return errors.Join(t.flush(), err)
}

// runRm deletes every id given, going on after a failure; the exit code
// is the first failure's.
func runRm(ctx context.Context, a *app, args []string) error {
	var first error
	var done []client.Info
	for _, id := range args {
		in, err := a.c.Delete(ctx, id)
		if err != nil {
			if first == nil {
				first = err
			} else {
				fmt.Fprintf(a.stderr, "objstorectl: %s\n", strings.TrimPrefix(err.Error(), "objstore: "))
			}
			continue
		}
		done = append(done, *in)
	}
	if a.opts.json {
		if done == nil {
			done = []client.Info{}
		}
		if err := printJSON(a.stdout, done); err != nil {
			return err
		}
	}
	return first
}

func runLevel(ctx context.Context, a *app, args []string) error {
	l, err := parseLevel(args[1])
	if err != nil {
		return err
	}
	m, err := a.c.SetLevel(ctx, args[0], l)
	if err != nil {
		return err
	}
	if a.opts.json {
		return printJSON(a.stdout, m)
	}
	_, err = fmt.Fprintf(a.stdout, "%s: level %d, in origin: %s\n", m.ID, m.Level, strconv.FormatBool(m.InRemote))
	return err
}
