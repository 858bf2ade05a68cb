package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

// compose loads the compose file at path as `docker compose config` does
// (compose-go, the library docker compose is built on: the compose
// specification's JSON schema, interpolation of ${VAR} from the
// environment, ${VAR:?} failing when VAR is unset, then the model's
// consistency checks) and writes the resolved model to w as JSON
// (docker compose config --format json).
func compose(ctx context.Context, path string, w io.Writer) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	opts, err := cli.NewProjectOptions([]string{abs}, cli.WithOsEnv, cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithConsistency(true))
	if err != nil {
		return fmt.Errorf("compose %s: %w", path, err)
	}
	project, err := opts.LoadProject(ctx)
	if err != nil {
		return fmt.Errorf("compose %s: %w", path, err)
	}
	b, err := project.MarshalJSON()
	if err != nil {
		return fmt.Errorf("compose %s: %w", path, err)
	}
	_, err = w.Write(b)
	return err
}
