package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/opencontainers/go-digest"
)

// lint checks the Dockerfile at path with the rules of `docker build
// --check` (BuildKit's Dockerfile frontend, dockerfile2llb.DockerfileLint,
// run here in process: Docker's daemon and registries are out of reach),
// writes the warnings and errors to w and fails if there is any. Base
// images are not pulled: offlineImages stands in for the registry.
func lint(ctx context.Context, path string, w io.Writer) error {
	dt, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	src := llb.NewSourceMap(nil, filepath.Base(path), "Dockerfile", dt)
	src.Definition = &llb.Definition{} // the lint's report reads it; no build runs
	res, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{
		SourceMap:    src,
		MetaResolver: offlineImages{},
	})
	if err != nil {
		return fmt.Errorf("lint %s: %w", path, err)
	}
	for _, warn := range res.Warnings {
		line := 0
		if warn.Location != nil && len(warn.Location.Ranges) > 0 {
			line = int(warn.Location.Ranges[0].Start.Line)
		}
		fmt.Fprintf(w, "%s:%d: %s: %s\n", path, line, warn.RuleName, warn.Detail)
	}
	if res.Error != nil {
		return fmt.Errorf("lint %s: %s", path, res.Error.Message)
	}
	if n := len(res.Warnings); n > 0 {
		return fmt.Errorf("lint %s: %d warnings", path, n)
	}
	return nil
}

// offlineImages answers every base image with an empty Linux image config
// of this machine's architecture, so the lint needs no registry.
type offlineImages struct{}

var _ sourceresolver.ImageMetaResolver = offlineImages{}

func (offlineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg, err := json.Marshal(map[string]any{"architecture": runtime.GOARCH, "os": "linux", "config": map[string]any{}})
	if err != nil {
		return "", "", nil, errors.Join(errors.New("image config"), err)
	}
	return ref, digest.FromBytes(cfg), cfg, nil
}
