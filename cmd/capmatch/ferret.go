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
// and local experiments that need the store in a process of its own (to kill it, or to run
// several API processes on it); production uses MongoDB.
//
// FerretDB 1.x applies an update as a find followed by a write, so on its own it loses the
// atomicity of conditional writes between API processes. -listen is therefore served by the
// write proxy (embedded.WriteProxy), which applies each write command alone in its collection
// and tells clients so; FerretDB itself listens on a private loopback port. -direct serves
// FerretDB without the proxy (to show the race, or to measure the proxy's cost).
func ferretCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ferretdb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	dir := fs.String("dir", "", "directory of the SQLite files (required)")
	direct := fs.Bool("direct", false, "serve FerretDB without the write proxy: conditional writes are then atomic for one API process only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("ferretdb: -dir is required")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	if *direct {
		f, err := embedded.StartFerretDBAt(ctx, *dir, *listen, log)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, f.URI())
		<-ctx.Done()
		f.Stop()
		return nil
	}
	f, err := embedded.StartFerretDBAt(ctx, *dir, "127.0.0.1:0", log)
	if err != nil {
		return err
	}
	defer f.Stop()
	p, err := embedded.StartWriteProxy(ctx, *listen, f.Addr(), log)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, p.URI())
	<-ctx.Done()
	p.Stop()
	return nil
}
