package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/oklog/ulid/v2"
)

const (
	// statuspageInterval is the nodes' --status-interval: short, so that
	// the page's history moves within the test.
	statuspageInterval = "250ms"
	// statuspageWait bounds each wait for the page to show something.
	statuspageWait = 30 * time.Second
	// statuspageShotEnv names a file to write the page's screenshot to
	// besides the test's artifact dir (how docs/status-page.png is made:
	// OBJSTORE_STATUS_SCREENSHOT=$PWD/docs/status-page.png).
	statuspageShotEnv = "OBJSTORE_STATUS_SCREENSHOT"
)

// TestStatusPageBrowser loads the status page of a 3-node cluster in a real
// headless Chromium: it lists the three members alive, and its read count,
// throughput, hit ratio and history move when reads flow through the node.
func TestStatusPageBrowser(t *testing.T) {
	interval, rounds := statuspageInterval, 4
	if os.Getenv(statuspageShotEnv) != "" {
		interval, rounds = "1s", 50 // a history worth a picture
	}
	c := StartCluster(t, 3, ClusterOpts{Args: []string{"--status-interval", interval}})
	n := c.Nodes[1] // any node serves the page: not the first
	ctx := statuspageBrowser(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(n.URL("/"))); err != nil {
		t.Fatalf("load %s: %v", n.URL("/"), err)
	}
	statuspagePoll(t, ctx, "the three members alive",
		`document.querySelectorAll('#members li[data-state="alive"]').length === 3`)
	shown := statuspageEval[[]string](t, ctx, `Array.from(document.querySelectorAll('#members li')).map(li => li.dataset.memberId)`)
	var want []string
	for _, m := range c.Nodes {
		want = append(want, m.NodeID(t))
	}
	slices.Sort(shown)
	slices.Sort(want)
	if !slices.Equal(shown, want) {
		t.Fatalf("page lists members %v, want %v", shown, want)
	}
	self := statuspageEval[string](t, ctx, `document.querySelector('#members li[data-self="true"]').dataset.memberId`)
	if self != n.NodeID(t) {
		t.Fatalf("page marks %s as this node, want %s", self, n.NodeID(t))
	}
	statuspagePoll(t, ctx, "a first read count", `document.getElementById('reads-total').dataset.value !== ""`)
	before := statuspageEval[float64](t, ctx, `Number(document.getElementById('reads-total').dataset.value)`)
	if rate := statuspageEval[float64](t, ctx, `Number(document.getElementById('rate-reads').dataset.value)`); before != 0 || rate != 0 {
		t.Fatalf("page shows %v reads and %v reads/s before any read", before, rate)
	}

	reads := statuspageTraffic(t, c, n, rounds)

	statuspagePoll(t, ctx, fmt.Sprintf("the read count up by %d", reads),
		fmt.Sprintf(`Number(document.getElementById('reads-total').dataset.value) >= %v`, before+float64(reads)))
	statuspagePoll(t, ctx, "a hit ratio between 0 and 1",
		`(v => v > 0 && v < 1)(Number(document.getElementById('hit-ratio').dataset.value))`)
	statuspagePoll(t, ctx, "a throughput", `Number(document.getElementById('rate-reads').dataset.value) > 0`)
	statuspagePoll(t, ctx, "throughput and savings drawn",
		`document.querySelector('#chart-rate svg path.line') !== null && document.querySelector('#chart-hits svg path.line') !== null`+
			` && Number(document.getElementById('saved-usd').dataset.value) > 0`)
	statuspagePoll(t, ctx, "the origin ok", `document.getElementById('origin-state').dataset.state === "ok"`)
	statuspageScreenshot(t, ctx)

	// Any node serves the page, with its own figures and view.
	other := c.Nodes[2]
	if err := chromedp.Do(ctx, chromedp.Navigate(other.URL("/status"))); err != nil {
		t.Fatalf("load %s: %v", other.URL("/status"), err)
	}
	statuspagePoll(t, ctx, "the third node's page", fmt.Sprintf(
		`document.querySelectorAll('#members li[data-state="alive"]').length === 3 && `+
			`document.querySelector('#members li[data-self="true"]').dataset.memberId === %q && `+
			`document.getElementById('node-id').textContent === %q`, other.NodeID(t), other.NodeID(t)))
}

// TestStatusPageBrowserToken loads the page of a node whose native API
// requires a token: the page, which holds no secret, asks for the token,
// and shows the node once it is given.
func TestStatusPageBrowserToken(t *testing.T) {
	const token = "status-page-token-0123456789abcdef"
	o := newOrigin(t)
	n := o.StartNode(t, "--native-api-auth", "on", "--native-api-token", token, "--status-interval", statuspageInterval)
	ctx := statuspageBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(n.URL("/status"))); err != nil {
		t.Fatalf("load %s: %v", n.URL("/status"), err)
	}
	statuspagePoll(t, ctx, "the token form", `!document.getElementById('auth').hidden`)
	html := statuspageEval[string](t, ctx, `document.documentElement.outerHTML`)
	if strings.Contains(html, token) || strings.Contains(html, TestSecretKey) {
		t.Fatal("the page holds a secret before one was typed")
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("auth-token"), token),
		chromedp.Click(chromedp.CSS(`#auth button[type="submit"]`)), // as a person would: form.submit() skips the page's handler
	); err != nil {
		t.Fatalf("submit the token: %v", err)
	}
	statuspagePoll(t, ctx, "the node shown", `document.getElementById('auth').hidden && document.querySelectorAll('#members li').length === 1`)
	id := statuspageEval[string](t, ctx, `document.getElementById('node-id').textContent`)
	if want := n.NodeID(t); id != want {
		t.Fatalf("page shows node %q, want %q", id, want)
	}
}

// statuspageTraffic reads through n in rounds: each round one body read
// through from the origin and then from n's cache, and one written to n
// and read back, with a pause of a few samples between rounds so that the
// history has a shape. It returns the reads n served.
func statuspageTraffic(t *testing.T, c *Cluster, n *Node, rounds int) int {
	t.Helper()
	tick := time.NewTicker(700 * time.Millisecond) // pacing for the picture, not for correctness
	defer tick.Stop()
	reads := 0
	for r := range rounds {
		fromOrigin := ulid.Make().String()
		body := randomBody(uint64(r), 32<<10+r*997)
		c.Origin.putOrigin(t, fromOrigin, body)
		n.MustGet(t, fromOrigin, body, "X-Meta-Fetch", "1") // an origin read
		written := n.NewID(t)
		n.MustPut(t, written, 1, body)
		hits := 3 + (r*7)%11
		for range hits {
			n.MustGet(t, fromOrigin, body)
			n.MustGet(t, written, body)
		}
		reads += 1 + 2*hits
		if r < rounds-1 {
			<-tick.C
		}
	}
	return reads
}

// statuspageBrowser starts a headless Chromium (Debian's, from PATH) with
// a profile in a temp dir, and returns a tab's context. The browser and
// every process it started are gone when the test ends: the cleanup
// checks, and kills and fails on any left.
func statuspageBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not on PATH (scripts/test.sh installs it: apt-get install chromium): %v", err)
	}
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 640),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		// chromedp sets Pdeathsig on Linux: the browser dies with the test
		// process even when the cleanup below does not run.
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancelTab()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		if err := chromedp.Cancel(ctx); err != nil {
			t.Logf("close chromium: %v", err)
		}
		cancelTab()
		cancelAlloc()
		statuspageReap(t, profile)
	})
	return ctx
}

// statuspageReap waits until no process runs with the test's browser
// profile; any still running after 10 s is killed and fails the test.
func statuspageReap(t *testing.T, profile string) {
	t.Helper()
	flag := []byte("--user-data-dir=" + profile)
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := statuspageProcsWith(flag)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL) // ours: started with this test's profile
			}
			t.Errorf("chromium processes %v outlived the test's browser", left)
			return
		}
		time.Sleep(100 * time.Millisecond) // waiting on processes we do not parent
	}
}

// statuspageProcsWith lists the processes whose command line has arg.
func statuspageProcsWith(arg []byte) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if slices.ContainsFunc(bytes.Split(cmdline, []byte{0}), func(a []byte) bool { return bytes.Equal(a, arg) }) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// statuspagePoll waits until the expression is true in the page.
func statuspagePoll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(statuspageWait))); err != nil {
		// What the page shows, for the message only.
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText + "\n" + document.getElementById('live').title`))
		t.Fatalf("page never showed %s (%s): %v\npage:\n%s", what, expr, err, state)
	}
}

// statuspageEval evaluates expr in the page.
func statuspageEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// statuspageScreenshot saves the page, in its dark scheme, to the test's
// artifact dir and, when statuspageShotEnv names a file, there too.
func statuspageScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	dark := chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tgt, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	})
	if err := chromedp.Do(ctx, dark); err != nil {
		t.Fatalf("dark scheme: %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 8 || !bytes.Equal(png[:8], []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	paths := []string{filepath.Join(t.ArtifactDir(), "status-page.png")}
	if p := os.Getenv(statuspageShotEnv); p != "" {
		paths = append(paths, p)
	}
	for _, p := range paths {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatalf("save screenshot: %v", err)
		}
		t.Logf("screenshot: %s", p)
	}
}
