package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The S3 client programs, from Debian's packages (scripts/test.sh installs
// them). The absolute paths keep a pyenv shim first on PATH out.
const (
	awsBin     = "/usr/bin/aws"     // awscli: AWS CLI v2
	rcloneBin  = "/usr/bin/rclone"  // rclone
	s3cmdBin   = "/usr/bin/s3cmd"   // s3cmd
	python3Bin = "/usr/bin/python3" // with python3-boto3
)

// requireProgram fails the test unless the program is installed.
func requireProgram(t testing.TB, bin, pkg string) {
	t.Helper()
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s is not installed (%v): the S3 client tests need Debian's %s; bash scripts/test.sh installs it", bin, err, pkg)
	}
}

// cli runs one client program with a clean environment: its own HOME in a
// temporary directory, only the variables given, each command bounded by
// cliTimeout and killed with the test process.
type cli struct {
	t    testing.TB
	ctx  context.Context
	bin  string
	args []string // put before every command's own arguments
	env  []string
	dir  string // working directory and HOME
}

// newCLI returns a cli for bin with HOME in a fresh temporary directory and
// env added to a minimal environment.
func newCLI(t testing.TB, ctx context.Context, bin string, env ...string) *cli {
	t.Helper()
	home := t.TempDir()
	base := []string{"HOME=" + home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	return &cli{t: t, ctx: ctx, bin: bin, env: append(base, env...), dir: home}
}

// awsEnv is the environment of the AWS clients: the test credentials and
// region, and nothing of a developer's own AWS configuration.
func awsEnv(home string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + TestAccessKey,
		"AWS_SECRET_ACCESS_KEY=" + TestSecretKey,
		"AWS_DEFAULT_REGION=" + s3Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, ".aws", "credentials"),
		"AWS_PAGER=",
	}
}

// run runs the program with args and returns its standard output.
func (c *cli) run(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(c.ctx, cliTimeout)
	defer cancel()
	all := append(slices.Clone(c.args), args...)
	cmd := exec.CommandContext(ctx, c.bin, all...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (killed after %v)", err, time.Since(start).Round(time.Millisecond))
		}
		return stdout.Bytes(), fmt.Errorf("%s %s: %w\nstderr:\n%s\nstdout:\n%s",
			filepath.Base(c.bin), strings.Join(all, " "), err, tail(stderr.String(), 4000), tail(stdout.String(), 2000))
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "WARN") || strings.Contains(line, "ERROR") {
			c.t.Logf("%s %s: %s", filepath.Base(c.bin), strings.Join(args, " "), line)
		}
	}
	return stdout.Bytes(), nil
}

// runJSON runs the program and decodes its standard output into v.
func (c *cli) runJSON(v any, args ...string) error {
	out, err := c.run(args...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("%s %s: %v in output %q", filepath.Base(c.bin), strings.Join(args, " "), err, tail(string(out), 2000))
	}
	return nil
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// metaArg is meta as k=v,k=v, sorted.
func metaArg(meta map[string]string) string {
	var kv []string
	for k, v := range meta {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	return strings.Join(kv, ",")
}

// awsCLI is the AWS CLI v2.
type awsCLI struct{ c *cli }

func startAWSCLI(t *testing.T, ctx context.Context, endpoint string) s3Tool {
	requireProgram(t, awsBin, "awscli")
	c := newCLI(t, ctx, awsBin)
	c.env = append(c.env, awsEnv(c.dir)...)
	// Path-style addressing, as objstore serves without --s3-api-domain.
	config := "[default]\nregion = " + s3Region + "\ns3 =\n    addressing_style = path\n"
	if err := os.MkdirAll(filepath.Join(c.dir, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, ".aws", "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	c.args = []string{"--endpoint-url", endpoint, "--output", "json", "--no-cli-pager"}
	return &awsCLI{c}
}

func (a *awsCLI) MakeBucket(bucket string) error {
	_, err := a.c.run("s3", "mb", "s3://"+bucket)
	return err
}

func (a *awsCLI) RemoveBucket(bucket string) error {
	_, err := a.c.run("s3", "rb", "s3://"+bucket)
	return err
}

// Upload uses aws s3 cp, which uploads in 8 MiB parts from 8 MiB on.
func (a *awsCLI) Upload(bucket, key, file, contentType string, meta map[string]string) error {
	args := []string{"s3", "cp", "--no-progress", file, "s3://" + bucket + "/" + key, "--content-type", contentType}
	if len(meta) > 0 {
		args = append(args, "--metadata", metaArg(meta))
	}
	_, err := a.c.run(args...)
	return err
}

// Download uses aws s3 cp, which reads large objects in ranged parts.
func (a *awsCLI) Download(bucket, key, file string) error {
	_, err := a.c.run("s3", "cp", "--no-progress", "s3://"+bucket+"/"+key, file)
	return err
}

func (a *awsCLI) Range(bucket, key string, first, last int64) ([]byte, error) {
	out := filepath.Join(a.c.dir, "range.out")
	var res struct{ ContentRange string }
	if err := a.c.runJSON(&res, "s3api", "get-object", "--bucket", bucket, "--key", key,
		"--range", fmt.Sprintf("bytes=%d-%d", first, last), out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

func (a *awsCLI) Head(bucket, key string) (objectHead, error) {
	var res struct {
		ContentLength int64
		ContentType   string
		Metadata      map[string]string
	}
	err := a.c.runJSON(&res, "s3api", "head-object", "--bucket", bucket, "--key", key)
	return objectHead{Size: res.ContentLength, ContentType: res.ContentType, Meta: res.Metadata}, err
}

// listV2 is the JSON of aws s3api list-objects-v2.
type listV2 struct {
	Contents       []struct{ Key string }
	CommonPrefixes []struct{ Prefix string }
	NextToken      string
}

func (a *awsCLI) List(bucket, prefix, delimiter string) ([]string, []string, error) {
	var res listV2
	err := a.c.runJSON(&res, "s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix, "--delimiter", delimiter)
	var keys, prefixes []string
	for _, c := range res.Contents {
		keys = append(keys, c.Key)
	}
	for _, p := range res.CommonPrefixes {
		prefixes = append(prefixes, p.Prefix)
	}
	return keys, prefixes, err
}

// ListAll pages with --page-size 2 (max-keys) and --max-items 2, following
// the CLI's NextToken.
func (a *awsCLI) ListAll(bucket string) ([]string, error) {
	var keys []string
	token := ""
	for page := 0; ; page++ {
		if page > 100 {
			return keys, fmt.Errorf("list-objects-v2: still a NextToken after %d pages", page)
		}
		args := []string{"s3api", "list-objects-v2", "--bucket", bucket, "--page-size", "2", "--max-items", "2"}
		if token != "" {
			args = append(args, "--starting-token", token)
		}
		var res listV2
		if err := a.c.runJSON(&res, args...); err != nil {
			return keys, err
		}
		for _, c := range res.Contents {
			keys = append(keys, c.Key)
		}
		if token = res.NextToken; token == "" {
			return keys, nil
		}
	}
}

// Copy uses aws s3 cp between two S3 URLs: CopyObject below 8 MiB, and a
// multipart upload whose parts are UploadPartCopy requests above.
func (a *awsCLI) Copy(bucket, src, dst string) error {
	_, err := a.c.run("s3", "cp", "--no-progress", "s3://"+bucket+"/"+src, "s3://"+bucket+"/"+dst)
	return err
}

func (a *awsCLI) Delete(bucket, key string) error {
	_, err := a.c.run("s3", "rm", "s3://"+bucket+"/"+key)
	return err
}

func (a *awsCLI) DeleteMany(bucket string, keys []string) error {
	type obj struct{ Key string }
	doc := struct {
		Objects []obj
		Quiet   bool
	}{}
	for _, k := range keys {
		doc.Objects = append(doc.Objects, obj{k})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	var res struct {
		Deleted []obj
		Errors  []json.RawMessage
	}
	if err := a.c.runJSON(&res, "s3api", "delete-objects", "--bucket", bucket, "--delete", string(b)); err != nil {
		return err
	}
	return checkDeleted(keys, len(res.Deleted), func(i int) string { return res.Deleted[i].Key }, len(res.Errors), res.Errors)
}

// checkDeleted checks a DeleteObjects result: every key deleted, no error.
func checkDeleted(keys []string, n int, key func(int) string, nerr int, errs any) error {
	var got []string
	for i := range n {
		got = append(got, key(i))
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) || nerr != 0 {
		return fmt.Errorf("DeleteObjects: deleted %q with errors %v, want %q deleted", got, errs, want)
	}
	return nil
}

func (a *awsCLI) Presign(bucket, key string) (string, error) {
	out, err := a.c.run("s3", "presign", "s3://"+bucket+"/"+key, "--expires-in", "300")
	return strings.TrimSpace(string(out)), err
}

// rcloneCLI is rclone with an S3 remote named "objstore" configured by
// environment variables.
type rcloneCLI struct{ c *cli }

func startRclone(t *testing.T, ctx context.Context, endpoint string) s3Tool {
	requireProgram(t, rcloneBin, "rclone")
	c := newCLI(t, ctx, rcloneBin)
	c.env = append(c.env,
		"RCLONE_CONFIG="+filepath.Join(c.dir, "rclone.conf"), // absent: the remote is all env
		"RCLONE_CONFIG_OBJSTORE_TYPE=s3",
		"RCLONE_CONFIG_OBJSTORE_PROVIDER=Other",
		"RCLONE_CONFIG_OBJSTORE_ACCESS_KEY_ID="+TestAccessKey,
		"RCLONE_CONFIG_OBJSTORE_SECRET_ACCESS_KEY="+TestSecretKey,
		"RCLONE_CONFIG_OBJSTORE_ENDPOINT="+endpoint,
		"RCLONE_CONFIG_OBJSTORE_REGION="+s3Region,
		"RCLONE_CONFIG_OBJSTORE_FORCE_PATH_STYLE=true",
	)
	// Multipart from 5 MiB in 5 MiB parts rather than from the default
	// 200 MiB; one try each, so that a server error is not retried away.
	c.args = []string{"--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
		"--retries", "1", "--low-level-retries", "1", "--contimeout", "10s", "--timeout", "60s"}
	return &rcloneCLI{c}
}

func (r *rcloneCLI) remote(bucket, key string) string { return "objstore:" + bucket + "/" + key }

func (r *rcloneCLI) MakeBucket(bucket string) error {
	_, err := r.c.run("mkdir", "objstore:"+bucket)
	return err
}

func (r *rcloneCLI) RemoveBucket(bucket string) error {
	_, err := r.c.run("rmdir", "objstore:"+bucket)
	return err
}

// Upload sets the content type and user metadata with rclone's metadata
// support (-M, --metadata-set).
func (r *rcloneCLI) Upload(bucket, key, file, contentType string, meta map[string]string) error {
	args := []string{"copyto", file, r.remote(bucket, key), "--metadata", "--metadata-set", "content-type=" + contentType}
	for k, v := range meta {
		args = append(args, "--metadata-set", k+"="+v)
	}
	_, err := r.c.run(args...)
	return err
}

func (r *rcloneCLI) Download(bucket, key, file string) error {
	_, err := r.c.run("copyto", r.remote(bucket, key), file)
	return err
}

// Range uses rclone cat --offset --count, which sends a Range header.
func (r *rcloneCLI) Range(bucket, key string, first, last int64) ([]byte, error) {
	return r.c.run("cat", "--offset", strconv.FormatInt(first, 10), "--count", strconv.FormatInt(last-first+1, 10), r.remote(bucket, key))
}

// lsjsonItem is one entry of rclone lsjson.
type lsjsonItem struct {
	Path     string
	Size     int64
	MimeType string
	IsDir    bool
	Metadata map[string]string
}

func (r *rcloneCLI) Head(bucket, key string) (objectHead, error) {
	var it lsjsonItem
	err := r.c.runJSON(&it, "lsjson", "--stat", "--metadata", r.remote(bucket, key))
	return objectHead{Size: it.Size, ContentType: it.Metadata["content-type"], Meta: it.Metadata}, err
}

// List lists one directory level: rclone asks with delimiter "/".
func (r *rcloneCLI) List(bucket, prefix, delimiter string) ([]string, []string, error) {
	if delimiter != "/" {
		return nil, nil, fmt.Errorf("rclone lists directories with the delimiter /, not %q", delimiter)
	}
	var items []lsjsonItem
	err := r.c.runJSON(&items, "lsjson", r.remote(bucket, prefix))
	var keys, prefixes []string
	for _, it := range items {
		if it.IsDir {
			prefixes = append(prefixes, prefix+it.Path+"/")
		} else {
			keys = append(keys, prefix+it.Path)
		}
	}
	return keys, prefixes, err
}

// ListAll lists recursively with one flat listing (--fast-list) in pages
// of 2 (--s3-list-chunk).
func (r *rcloneCLI) ListAll(bucket string) ([]string, error) {
	out, err := r.c.run("lsf", "-R", "--fast-list", "--files-only", "--s3-list-chunk", "2", "objstore:"+bucket)
	return strings.Fields(string(out)), err
}

// Copy is a server-side copy: rclone sends CopyObject for remote to remote.
func (r *rcloneCLI) Copy(bucket, src, dst string) error {
	_, err := r.c.run("copyto", r.remote(bucket, src), r.remote(bucket, dst))
	return err
}

func (r *rcloneCLI) Delete(bucket, key string) error {
	_, err := r.c.run("deletefile", r.remote(bucket, key))
	return err
}

// DeleteMany uses rclone delete with a file list; rclone deletes the
// objects one by one.
func (r *rcloneCLI) DeleteMany(bucket string, keys []string) error {
	list := filepath.Join(r.c.dir, "delete-list")
	if err := os.WriteFile(list, []byte(strings.Join(keys, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	_, err := r.c.run("delete", "--files-from-raw", list, "objstore:"+bucket)
	return err
}

// Presign uses rclone link, a presigned GET URL for S3.
func (r *rcloneCLI) Presign(bucket, key string) (string, error) {
	out, err := r.c.run("link", "--expire", "5m", r.remote(bucket, key))
	lines := strings.Fields(string(out))
	if err != nil || len(lines) == 0 {
		return "", fmt.Errorf("rclone link: no URL in %q (%v)", out, err)
	}
	return lines[len(lines)-1], nil
}

// s3cmdCLI is s3cmd with a config file naming the node, Signature V4.
type s3cmdCLI struct{ c *cli }

func startS3cmd(t *testing.T, ctx context.Context, endpoint string) s3Tool {
	requireProgram(t, s3cmdBin, "s3cmd")
	c := newCLI(t, ctx, s3cmdBin)
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	// host_bucket without %(bucket)s: path-style requests.
	config := strings.Join([]string{
		"[default]",
		"access_key = " + TestAccessKey,
		"secret_key = " + TestSecretKey,
		"host_base = " + u.Host,
		"host_bucket = " + u.Host,
		"bucket_location = " + s3Region,
		"use_https = False",
		"signature_v2 = False",
		"check_ssl_certificate = False",
		"multipart_chunk_size_mb = 15",
		"socket_timeout = 60",
		"",
	}, "\n")
	cfg := filepath.Join(c.dir, "s3cfg")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	c.args = []string{"-c", cfg, "--no-progress"}
	return &s3cmdCLI{c}
}

func (s *s3cmdCLI) MakeBucket(bucket string) error {
	_, err := s.c.run("mb", "s3://"+bucket)
	return err
}

func (s *s3cmdCLI) RemoveBucket(bucket string) error {
	_, err := s.c.run("rb", "s3://"+bucket)
	return err
}

// Upload uses s3cmd put: multipart in 15 MiB chunks above 15 MiB.
func (s *s3cmdCLI) Upload(bucket, key, file, contentType string, meta map[string]string) error {
	args := []string{"put", "--no-guess-mime-type", "--mime-type=" + contentType}
	for k, v := range meta {
		args = append(args, "--add-header=x-amz-meta-"+k+":"+v)
	}
	_, err := s.c.run(append(args, file, "s3://"+bucket+"/"+key)...)
	return err
}

func (s *s3cmdCLI) Download(bucket, key, file string) error {
	_, err := s.c.run("get", "--force", "s3://"+bucket+"/"+key, file)
	return err
}

func (s *s3cmdCLI) Range(string, string, int64, int64) ([]byte, error) {
	return nil, fmt.Errorf("s3cmd get: %w", errNoRange)
}

// Head parses s3cmd info.
func (s *s3cmdCLI) Head(bucket, key string) (objectHead, error) {
	out, err := s.c.run("info", "s3://"+bucket+"/"+key)
	h := objectHead{Meta: map[string]string{}}
	for _, line := range strings.Split(string(out), "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch name = strings.ToLower(name); {
		case name == "file size":
			h.Size, _ = strconv.ParseInt(value, 10, 64) // a bad size shows as 0 in the failure
		case name == "mime type":
			h.ContentType = value
		case strings.HasPrefix(name, "x-amz-meta-"):
			h.Meta[strings.TrimPrefix(name, "x-amz-meta-")] = value
		}
	}
	return h, err
}

// ls parses s3cmd ls lines: "DIR s3://b/p/" or "date time size s3://b/k".
func (s *s3cmdCLI) ls(bucket string, args ...string) (keys, prefixes []string, err error) {
	out, err := s.c.run(append([]string{"ls"}, args...)...)
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		k, ok := strings.CutPrefix(f[len(f)-1], "s3://"+bucket+"/")
		switch {
		case !ok:
			continue
		case f[0] == "DIR":
			prefixes = append(prefixes, k)
		default:
			keys = append(keys, k)
		}
	}
	return keys, prefixes, err
}

// List lists one level: s3cmd ls without -r asks with delimiter "/".
func (s *s3cmdCLI) List(bucket, prefix, delimiter string) ([]string, []string, error) {
	if delimiter != "/" {
		return nil, nil, fmt.Errorf("s3cmd lists directories with the delimiter /, not %q", delimiter)
	}
	return s.ls(bucket, "s3://"+bucket+"/"+prefix)
}

// ListAll uses s3cmd ls -r (ListObjects, the original API, with markers).
// s3cmd has no page-size option; --limit 3 (max-keys 3) must give the
// first 3 keys of the full listing.
func (s *s3cmdCLI) ListAll(bucket string) ([]string, error) {
	keys, _, err := s.ls(bucket, "-r", "s3://"+bucket)
	if err != nil {
		return keys, err
	}
	first, _, err := s.ls(bucket, "-r", "--limit", "3", "s3://"+bucket)
	if err != nil {
		return keys, err
	}
	if want := keys[:min(3, len(keys))]; !slices.Equal(first, want) {
		return keys, fmt.Errorf("s3cmd ls -r --limit 3: %q, want the first 3 keys %q", first, want)
	}
	return keys, nil
}

func (s *s3cmdCLI) Copy(bucket, src, dst string) error {
	_, err := s.c.run("cp", "s3://"+bucket+"/"+src, "s3://"+bucket+"/"+dst)
	return err
}

func (s *s3cmdCLI) Delete(bucket, key string) error {
	_, err := s.c.run("rm", "s3://"+bucket+"/"+key)
	return err
}

// DeleteMany uses s3cmd del --recursive on each of the keys' directories,
// which s3cmd deletes with DeleteObjects; the keys must be all of each
// directory. (s3cmd 2.3 stops after the first of several URLs given to one
// del --recursive, hence one command per directory.)
func (s *s3cmdCLI) DeleteMany(bucket string, keys []string) error {
	var dirs []string
	for _, k := range keys {
		if d := path.Dir(k); d != "." && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		if _, err := s.c.run("del", "--recursive", "--force", "s3://"+bucket+"/"+d+"/"); err != nil {
			return err
		}
	}
	return nil
}

// Presign uses s3cmd signurl, which signs with Signature Version 2 only.
func (s *s3cmdCLI) Presign(bucket, key string) (string, error) {
	out, err := s.c.run("signurl", "s3://"+bucket+"/"+key, "+300")
	return strings.TrimSpace(string(out)), err
}

// boto3Script runs testdata/s3clients/boto3_client.py, one operation a
// process.
type boto3Script struct {
	c      *cli
	script string
}

func startBoto3(t *testing.T, ctx context.Context, endpoint string) s3Tool {
	requireProgram(t, python3Bin, "python3")
	c := newCLI(t, ctx, python3Bin)
	if out, err := c.run("-c", "import boto3"); err != nil {
		t.Fatalf("boto3 is not installed for %s: the S3 client tests need Debian's python3-boto3; bash scripts/test.sh installs it\n%v %s", python3Bin, err, out)
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "testdata", "s3clients", "boto3_client.py")
	c.env = append(append(c.env, awsEnv(c.dir)...), "S3_ENDPOINT="+endpoint, "PYTHONDONTWRITEBYTECODE=1")
	return &boto3Script{c: c, script: script}
}

// call runs one operation with args and decodes its result into res.
func (b *boto3Script) call(res any, op string, args map[string]any) error {
	a, err := json.Marshal(args)
	if err != nil {
		return err
	}
	if res == nil {
		res = &struct{}{}
	}
	return b.c.runJSON(res, b.script, op, string(a))
}

func (b *boto3Script) MakeBucket(bucket string) error {
	return b.call(nil, "make_bucket", map[string]any{"bucket": bucket})
}

func (b *boto3Script) RemoveBucket(bucket string) error {
	return b.call(nil, "remove_bucket", map[string]any{"bucket": bucket})
}

func (b *boto3Script) Upload(bucket, key, file, contentType string, meta map[string]string) error {
	return b.call(nil, "upload", map[string]any{"bucket": bucket, "key": key, "file": file, "content_type": contentType, "meta": meta})
}

func (b *boto3Script) Download(bucket, key, file string) error {
	return b.call(nil, "download", map[string]any{"bucket": bucket, "key": key, "file": file})
}

func (b *boto3Script) Range(bucket, key string, first, last int64) ([]byte, error) {
	out := filepath.Join(b.c.dir, "range.out")
	var res struct {
		ContentRange string `json:"content_range"`
	}
	if err := b.call(&res, "range", map[string]any{"bucket": bucket, "key": key, "file": out,
		"range": fmt.Sprintf("bytes=%d-%d", first, last)}); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

func (b *boto3Script) Head(bucket, key string) (objectHead, error) {
	var res struct {
		Size        int64             `json:"size"`
		ContentType string            `json:"content_type"`
		Meta        map[string]string `json:"meta"`
	}
	err := b.call(&res, "head", map[string]any{"bucket": bucket, "key": key})
	return objectHead{Size: res.Size, ContentType: res.ContentType, Meta: res.Meta}, err
}

func (b *boto3Script) List(bucket, prefix, delimiter string) ([]string, []string, error) {
	var res struct {
		Keys     []string `json:"keys"`
		Prefixes []string `json:"prefixes"`
	}
	err := b.call(&res, "list", map[string]any{"bucket": bucket, "prefix": prefix, "delimiter": delimiter})
	return res.Keys, res.Prefixes, err
}

// ListAll uses the list_objects_v2 paginator with PageSize 2.
func (b *boto3Script) ListAll(bucket string) ([]string, error) {
	var res struct {
		Keys []string `json:"keys"`
	}
	err := b.call(&res, "list_all", map[string]any{"bucket": bucket, "page_size": 2})
	return res.Keys, err
}

func (b *boto3Script) Copy(bucket, src, dst string) error {
	return b.call(nil, "copy", map[string]any{"bucket": bucket, "src": src, "dst": dst})
}

func (b *boto3Script) Delete(bucket, key string) error {
	return b.call(nil, "delete", map[string]any{"bucket": bucket, "key": key})
}

func (b *boto3Script) DeleteMany(bucket string, keys []string) error {
	var res struct {
		Deleted []string          `json:"deleted"`
		Errors  []json.RawMessage `json:"errors"`
	}
	if err := b.call(&res, "delete_many", map[string]any{"bucket": bucket, "keys": keys}); err != nil {
		return err
	}
	return checkDeleted(keys, len(res.Deleted), func(i int) string { return res.Deleted[i] }, len(res.Errors), res.Errors)
}

func (b *boto3Script) Presign(bucket, key string) (string, error) {
	var res struct {
		URL string `json:"url"`
	}
	err := b.call(&res, "presign", map[string]any{"bucket": bucket, "key": key})
	return res.URL, err
}
