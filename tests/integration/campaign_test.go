package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// campaignPrefix starts the one machine-readable summary line each fault
// test (kill -9, orphans, frozen origin, partition) logs when it ends,
// passed or failed: "CAMPAIGN {json}". scripts/campaign.sh collects them.
const campaignPrefix = "CAMPAIGN "

// campaignOutEnv names a file the summary lines' JSON is also appended
// to, one object per line: go test shows a passing test's log only with -v,
// and the campaign script and CI read the figures from there.
const campaignOutEnv = "OBJSTORE_CAMPAIGN_OUT"

// campaign gathers the figures of one fault test and writes them as its
// summary line when the test ends. It is safe for concurrent use.
type campaign struct {
	test  string
	start time.Time

	mu        sync.Mutex // guards figures and durations
	figures   map[string]any
	durations map[string][]time.Duration
}

// newCampaign starts the summary of test; the line is written by a cleanup,
// so a test that stops with Fatal still reports what it saw until then.
func newCampaign(t testing.TB, test string) *campaign {
	t.Helper()
	c := &campaign{test: test, start: time.Now(), figures: map[string]any{}, durations: map[string][]time.Duration{}}
	t.Cleanup(func() { c.write(t) })
	return c
}

// Set records a figure.
func (c *campaign) Set(name string, v any) {
	c.mu.Lock()
	c.figures[name] = v
	c.mu.Unlock()
}

// Add adds d to an integer figure.
func (c *campaign) Add(name string, d int) {
	c.mu.Lock()
	n, _ := c.figures[name].(int) // absent: starts at 0
	c.figures[name] = n + d
	c.mu.Unlock()
}

// Time records one measurement of a duration (time to fail, to recover,
// to converge); the line carries the median and the maximum in
// milliseconds, as <name>_ms_p50 and <name>_ms_max, and the count.
func (c *campaign) Time(name string, d time.Duration) {
	c.mu.Lock()
	c.durations[name] = append(c.durations[name], d)
	c.mu.Unlock()
}

// line renders the summary line's JSON.
func (c *campaign) line(failed bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]any, len(c.figures)+3*len(c.durations)+4)
	for k, v := range c.figures {
		out[k] = v
	}
	for name, ds := range c.durations {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		out[name+"_ms_p50"] = ds[len(ds)/2].Milliseconds()
		out[name+"_ms_max"] = ds[len(ds)-1].Milliseconds()
		out[name+"_n"] = len(ds)
	}
	out["test"] = c.test
	out["passed"] = !failed
	out["seconds"] = int(time.Since(c.start).Round(time.Second).Seconds())
	out["date"] = time.Now().UTC().Format(time.RFC3339)
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("campaign line of %s: %w", c.test, err)
	}
	return string(b), nil
}

// write logs the summary line and appends it to $OBJSTORE_CAMPAIGN_OUT
// when that is set.
func (c *campaign) write(t testing.TB) {
	line, err := c.line(t.Failed())
	if err != nil {
		t.Error(err)
		return
	}
	t.Log(campaignPrefix + line)
	path := os.Getenv(campaignOutEnv)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("%s: %v", campaignOutEnv, err)
		return
	}
	// One write with O_APPEND: lines of tests run in parallel do not mix.
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Errorf("%s: %v", campaignOutEnv, err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("%s: %v", campaignOutEnv, err)
	}
}
