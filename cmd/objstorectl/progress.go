package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// barInterval is how often a progress bar is redrawn.
const barInterval = 200 * time.Millisecond

// bar is a progress bar on a terminal, redrawn by a goroutine of its own
// until Stop. A nil bar does nothing: no terminal, or -q.
type bar struct {
	w     io.Writer
	label string
	total int64 // -1 unknown
	n     atomic.Int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

// startBar starts a bar on w when show is set.
func startBar(show bool, w io.Writer, label string, total int64) *bar {
	if !show {
		return nil
	}
	b := &bar{w: w, label: label, total: total, start: time.Now(), stop: make(chan struct{})}
	b.wg.Add(1)
	go b.loop()
	return b
}

func (b *bar) loop() {
	defer b.wg.Done()
	t := time.NewTicker(barInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.draw()
		}
	}
}

// add counts n more bytes.
func (b *bar) add(n int64) {
	if b != nil {
		b.n.Add(n)
	}
}

// set puts the count at n (a body sent again from its start).
func (b *bar) set(n int64) {
	if b != nil {
		b.n.Store(n)
	}
}

// Stop ends the goroutine and draws the bar a last time.
func (b *bar) Stop() {
	if b == nil {
		return
	}
	close(b.stop)
	b.wg.Wait()
	b.draw()
	fmt.Fprintln(b.w)
}

// draw writes one line: label, bar, share, bytes, rate.
func (b *bar) draw() {
	const width = 30
	n := b.n.Load()
	secs := max(time.Since(b.start).Seconds(), 0.001)
	rate := bytesIEC(int64(float64(n)/secs)) + "/s"
	if b.total <= 0 {
		fmt.Fprintf(b.w, "\r%s %s %s   ", b.label, bytesIEC(n), rate)
		return
	}
	frac := min(float64(n)/float64(b.total), 1)
	full := int(frac * width)
	fmt.Fprintf(b.w, "\r%s [%s%s] %3.0f%% %s / %s %s   ", b.label, strings.Repeat("=", full), strings.Repeat(" ", width-full),
		frac*100, bytesIEC(n), bytesIEC(b.total), rate)
}

// countingReader counts what is read from r, in n and on b.
type countingReader struct {
	r io.Reader
	b *bar
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.b.add(int64(n))
	return n, err
}

// countingReadSeeker is a countingReader that the client can rewind: a
// file, which it reads from its start.
type countingReadSeeker struct {
	*countingReader
	s io.Seeker
}

func (c *countingReadSeeker) Seek(off int64, whence int) (int64, error) {
	pos, err := c.s.Seek(off, whence)
	if err == nil {
		c.n = pos
		c.b.set(pos)
	}
	return pos, err
}

// countingWriter counts what is written to w on b.
type countingWriter struct {
	w io.Writer
	b *bar
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.b.add(int64(n))
	return n, err
}
