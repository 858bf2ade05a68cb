package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing/iotest"

	"sphere.software/objstore"
)

// memRemote is an in-memory origin for unit tests. Bodies can be gated so a
// test can hold every GET mid-body, and corrupted to test verification.
type memRemote struct {
	mu      sync.Mutex // guards objects and puts
	objects map[objstore.Key]memObject
	// puts are the objects of every Put, in order.
	puts []memObject

	gets atomic.Int64
	// gate, when set, is waited on after the first half of a body is read.
	gate chan struct{}
	// corrupt flips a byte of every body served.
	corrupt atomic.Bool
	// cut makes every body fail with a network error after its first half.
	cut atomic.Bool
	// fail makes every call fail with objstore.ErrNoRemote.
	fail atomic.Bool
}

type memObject struct {
	rec  objstore.Record
	body []byte
}

var _ Remote = (*memRemote)(nil)

func newMemRemote() *memRemote { return &memRemote{objects: map[objstore.Key]memObject{}} }

func (m *memRemote) String() string { return "memory" }

func (m *memRemote) down(op string) error {
	if m.fail.Load() {
		return fmt.Errorf("mem: %s: %w", op, objstore.ErrNoRemote)
	}
	return nil
}

func (m *memRemote) Put(ctx context.Context, rec objstore.Record, body io.ReaderAt) error {
	if err := m.down("put"); err != nil {
		return err
	}
	b := make([]byte, rec.Size())
	if _, err := body.ReadAt(b, 0); err != nil && err != io.EOF {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec.InRemote = true
	m.objects[rec.Key] = memObject{rec: rec, body: b}
	m.puts = append(m.puts, m.objects[rec.Key])
	return nil
}

func (m *memRemote) lookup(key objstore.Key) (memObject, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return o, fmt.Errorf("mem: %s: %w", key, objstore.ErrNotFound)
	}
	return o, nil
}

func (m *memRemote) Get(ctx context.Context, key objstore.Key) (io.ReadCloser, objstore.Record, error) {
	if err := m.down("get"); err != nil {
		return nil, objstore.Record{}, err
	}
	m.gets.Add(1)
	o, err := m.lookup(key)
	if err != nil {
		return nil, objstore.Record{}, err
	}
	body := bytes.Clone(o.body)
	if m.corrupt.Load() && len(body) > 0 {
		body[len(body)/2] ^= 0xff
	}
	half := len(body) / 2
	var rest io.Reader = bytes.NewReader(body[half:])
	if m.cut.Load() {
		rest = iotest.ErrReader(errors.New("mem: connection reset mid-body"))
	}
	r := io.MultiReader(bytes.NewReader(body[:half]), &gated{gate: m.gate}, rest)
	return io.NopCloser(r), o.rec, nil
}

func (m *memRemote) Stat(ctx context.Context, key objstore.Key) (objstore.Record, error) {
	if err := m.down("stat"); err != nil {
		return objstore.Record{}, err
	}
	o, err := m.lookup(key)
	return o.rec, err
}

func (m *memRemote) Delete(ctx context.Context, key objstore.Key) error {
	if err := m.down("delete"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

func (m *memRemote) has(key objstore.Key) bool {
	_, err := m.lookup(key)
	return err == nil
}

// gated is an empty reader that blocks on gate (when not nil) once.
type gated struct {
	gate chan struct{}
	done bool
}

func (g *gated) Read(p []byte) (int, error) {
	if !g.done && g.gate != nil {
		<-g.gate
	}
	g.done = true
	return 0, io.EOF
}
