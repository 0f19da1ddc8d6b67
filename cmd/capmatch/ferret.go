package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/capmatch/capmatch/adapters/embedded"
)

// ferretCommand implements `capmatch ferretdb`: the embedded FerretDB (SQLite in -dir) as a
// standalone MongoDB wire-protocol server on -listen, until interrupted. It exists for tests
// and local experiments that need the store in a process of its own (to kill it, or to point
// one API process at it); production uses MongoDB. FerretDB 1.x applies updates as a find
// followed by a write, so several API processes on one FerretDB lose the atomicity of
// conditional writes: run one API process per FerretDB, or MongoDB.
func ferretCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ferretdb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	dir := fs.String("dir", "", "directory of the SQLite files (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("ferretdb: -dir is required")
	}
	f, err := embedded.StartFerretDBAt(ctx, *dir, *listen, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, f.URI())
	<-ctx.Done()
	f.Stop()
	return nil
}
