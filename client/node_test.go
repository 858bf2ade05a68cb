package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"

	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/httpapi"
	"sphere.software/objstore/internal/journal"
	"sphere.software/objstore/internal/localdir"
	"sphere.software/objstore/internal/node"
)

// startNode runs one objstore node in this process, on real parts in a
// temporary directory with a local directory origin, and returns the
// address of its native API and a function that stops it. The examples
// run against it; tests/integration runs the client against real
// processes.
func startNode() (addr string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "objstore-client-example-")
	if err != nil {
		return "", nil, err
	}
	var closers []func() error
	stop = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]() // best effort: the directory goes next
		}
		_ = os.RemoveAll(dir) // a temporary directory
	}
	fail := func(err error) (string, func(), error) { stop(); return "", nil, err }
	j, err := journal.Open(filepath.Join(dir, "state", "journal.db"), journal.Options{NoSync: true})
	if err != nil {
		return fail(err)
	}
	closers = append(closers, j.Close)
	blobs, err := disk.Open(filepath.Join(dir, "files"), disk.Config{})
	if err != nil {
		return fail(err)
	}
	closers = append(closers, blobs.Close)
	origin, err := localdir.Open(filepath.Join(dir, "origin"), nil)
	if err != nil {
		return fail(err)
	}
	n, err := node.New(context.Background(), node.Config{NodeID: j.NodeID()}, j, node.AdaptBlobs(blobs), origin)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func() error { return n.Close(context.Background()) })
	srv := httptest.NewServer(httpapi.NewNative(httpapi.Config{Bucket: "bkt", Version: "example"}, n))
	closers = append(closers, func() error { srv.Close(); return nil })
	if srv.URL == "" {
		return fail(errors.New("no server address"))
	}
	return srv.URL, stop, nil
}
