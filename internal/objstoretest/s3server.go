package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Server is a real S3-compatible server (versitygw, posix backend) running
// as its own process on loopback, behind a counting reverse proxy.
type S3Server struct {
	Endpoint  string // http://127.0.0.1:PORT of the counting proxy; clients use this
	Direct    string // http://127.0.0.1:PORT of versitygw itself (bypasses counting)
	AccessKey string
	SecretKey string
	Region    string
	Dir       string // posix backend root; bucket b is Dir/b

	noConfig string   // a path that does not exist, for AWS_CONFIG_FILE and friends
	args     []string // versitygw's global options from S3Opts, for StartProcess
	proxy    *countingProxy
	proc     *process
}

// S3Opts says how StartS3With runs versitygw.
type S3Opts struct {
	// Args are versitygw's global options, put before the backend, e.g.
	// "--event-webhook-url", URL to have it send S3 event notifications.
	Args []string
}

const (
	versitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	// startTimeout bounds how long StartS3 waits for versitygw to answer.
	startTimeout = 30 * time.Second
	// stopTimeout bounds how long the cleanup waits after SIGTERM before SIGKILL.
	stopTimeout = 5 * time.Second
	// startAttempts is how many ports StartS3 tries, in case another
	// process takes the free port it picked.
	startAttempts = 3
)

// StartS3 starts versitygw on a free loopback port with a posix backend in a
// temporary directory, and a counting proxy in front of it. It fails the
// test if versitygw is not installed, and stops the server when the test ends.
func StartS3(t testing.TB) *S3Server {
	t.Helper()
	return StartS3With(t, S3Opts{})
}

// StartS3With is StartS3 with versitygw run as opts says.
func StartS3With(t testing.TB, opts S3Opts) *S3Server {
	t.Helper()
	bin := findVersitygw(t)
	base := t.TempDir()
	s := &S3Server{
		AccessKey: "objstoretest",
		SecretKey: "objstoretest-secret-key",
		Region:    "us-east-1",
		Dir:       filepath.Join(base, "root"),
		noConfig:  filepath.Join(base, "no-such-aws-config"),
		args:      opts.Args,
	}
	if err := os.Mkdir(s.Dir, 0o755); err != nil {
		t.Fatalf("objstoretest: %v", err)
	}
	var lastErr error
	for range startAttempts {
		addr := FreeAddr(t)
		p, err := s.start(bin, addr, opts.Args)
		if err == nil {
			t.Cleanup(func() { p.stop(t) })
			s.Direct = "http://" + addr
			s.proc = p
			break
		}
		lastErr = err
	}
	if s.Direct == "" {
		t.Fatalf("objstoretest: start versitygw: %v", lastErr)
	}
	direct, err := url.Parse(s.Direct)
	if err != nil {
		t.Fatalf("objstoretest: %v", err)
	}
	s.proxy = newCountingProxy(direct)
	t.Cleanup(s.proxy.close) // runs before the process stops
	s.Endpoint = s.proxy.srv.URL
	return s
}

// findVersitygw looks on PATH, then in GOPATH/bin.
func findVersitygw(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	for _, dir := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(dir, "bin", "versitygw")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	t.Fatalf("objstoretest: versitygw not found on PATH or in GOPATH/bin (%s); install it with:\n\t%s",
		build.Default.GOPATH, versitygwInstall)
	return ""
}

// process is a running versitygw.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd.Wait returns
	log  *syncBuffer
}

// Stop stops versitygw and the counting proxy in front of it, as an origin
// that goes down: from then on Endpoint and Direct refuse connections. The
// test's cleanup does the same and does not mind that it already happened.
func (s *S3Server) Stop(t testing.TB) {
	t.Helper()
	s.proxy.close()
	s.proc.stop(t)
}

// Freeze stops versitygw with SIGSTOP, as an origin that hangs rather
// than goes down: connections are still accepted (by the kernel, and by
// the proxy in front) but nothing is answered until Thaw. The test's
// cleanup thaws it, so that it can be stopped.
func (s *S3Server) Freeze(t testing.TB) {
	t.Helper()
	if err := s.proc.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("objstoretest: freeze versitygw (pid %d): %v", s.proc.cmd.Process.Pid, err)
	}
	t.Cleanup(func() { _ = s.proc.cmd.Process.Signal(syscall.SIGCONT) }) // fails only if it already exited
}

// Thaw resumes a versitygw that Freeze stopped (SIGCONT).
func (s *S3Server) Thaw(t testing.TB) {
	t.Helper()
	if err := s.proc.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("objstoretest: thaw versitygw (pid %d): %v", s.proc.cmd.Process.Pid, err)
	}
}

// start runs versitygw on addr with the global options extra and waits
// until it answers its health check.
func (s *S3Server) start(bin, addr string, extra []string) (*process, error) {
	args := append([]string{
		"--port", addr,
		"--access", s.AccessKey,
		"--secret", s.SecretKey,
		"--region", s.Region,
		"--keep-alive",
		"--quiet",
		"--health", "/health",
	}, extra...)
	cmd := exec.Command(bin, append(args, "posix", s.Dir)...)
	p := &process{cmd: cmd, done: make(chan struct{}), log: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait() // the exit status is of no interest: done says it exited
		close(p.done)
	}()
	if err := p.waitReady(addr); err != nil {
		p.kill()
		return nil, fmt.Errorf("%w; versitygw output:\n%s", err, p.log.String())
	}
	return p, nil
}

// waitReady polls the health endpoint until it answers 200, the process
// exits, or startTimeout passes.
func (p *process) waitReady(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	delay := 5 * time.Millisecond
	for {
		if healthy(ctx, client, "http://"+addr+"/health") {
			return nil
		}
		select {
		case <-p.done:
			return errors.New("versitygw exited before it answered")
		case <-ctx.Done():
			return fmt.Errorf("versitygw did not answer on %s within %v", addr, startTimeout)
		case <-time.After(delay):
			delay = min(2*delay, 200*time.Millisecond)
		}
	}
}

func healthy(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close() // only the status matters
	return resp.StatusCode == http.StatusOK
}

// stop sends SIGTERM, waits up to stopTimeout, then sends SIGKILL.
func (p *process) stop(t testing.TB) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // fails only if it already exited
	select {
	case <-p.done:
		return
	case <-time.After(stopTimeout):
	}
	t.Logf("objstoretest: versitygw (pid %d) ignored SIGTERM for %v; killing it", p.cmd.Process.Pid, stopTimeout)
	p.kill()
}

func (p *process) kill() {
	_ = p.cmd.Process.Kill() // fails only if it already exited
	<-p.done
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// CreateBucket creates bucket name, failing the test on error.
func (s *S3Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if _, err := s.Client(t).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("objstoretest: create bucket %s: %v", name, err)
	}
}

// Count returns how many requests with the HTTP method went through the
// proxy to bucket (path-style: the path's first segment is the bucket).
func (s *S3Server) Count(method, bucket string) int { return s.proxy.get(method, bucket) }

// ResetCounts sets every count to zero.
func (s *S3Server) ResetCounts() { s.proxy.reset() }

// Refuse makes the proxy in front of the server answer the requests fn
// picks itself, with 501 NotImplemented as an S3-compatible server that
// lacks a feature answers, instead of passing them on; nil passes every
// request on again. Refused requests are counted like the others.
func (s *S3Server) Refuse(fn func(*http.Request) bool) {
	if fn == nil {
		s.proxy.refuse.Store(nil)
		return
	}
	s.proxy.refuse.Store(&fn)
}

// Env returns environment entries that point the AWS SDK's default chain at
// this server's credentials and region, and keep a developer's own AWS
// configuration (profiles, ~/.aws files, IMDS, endpoint overrides) out.
// Append them to os.Environ() for a child process: later entries win.
func (s *S3Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_SESSION_TOKEN=",
		"AWS_REGION=" + s.Region,
		"AWS_DEFAULT_REGION=" + s.Region,
		"AWS_PROFILE=",
		"AWS_DEFAULT_PROFILE=",
		"AWS_CONFIG_FILE=" + s.noConfig,
		"AWS_SHARED_CREDENTIALS_FILE=" + s.noConfig,
		"AWS_ROLE_ARN=",
		"AWS_WEB_IDENTITY_TOKEN_FILE=",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL=",
		"AWS_ENDPOINT_URL_S3=",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true",
		"AWS_CA_BUNDLE=",
	}
}

// SetEnv sets Env in the test process with t.Setenv, for code under test
// that loads the AWS SDK's default configuration. Like t.Setenv it cannot
// be used in parallel tests.
func (s *S3Server) SetEnv(t testing.TB) {
	t.Helper()
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Client returns an S3 client with the server's credentials, pointed at
// Direct with path-style addressing, so its requests are not counted.
func (s *S3Server) Client(t testing.TB) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		Region:                     s.Region,
		Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		BaseEndpoint:               aws.String(s.Direct),
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}
