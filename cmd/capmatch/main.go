// Command capmatch serves the capmatch API and web UI. With no MONGO_URI it embeds FerretDB
// (SQLite in CAPMATCH_DATA_DIR) and, with no REDIS_URL, an in-process Redis-protocol server,
// so that `go run ./cmd/capmatch` works on a machine with nothing else installed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/capmatch/capmatch/api"
	"github.com/capmatch/capmatch/models/embedded"
	"github.com/capmatch/capmatch/models/mongostore"
	"github.com/capmatch/capmatch/models/rediscache"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "capmatch:", err)
		os.Exit(1)
	}
}

// shutdownBudget is how long in-flight requests get to finish after SIGTERM.
const shutdownBudget = 10 * time.Second

// run is the whole program: it reads the configuration, starts what it needs, serves until ctx
// is cancelled or a signal arrives, and shuts down in order. Tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))

	if len(args) > 1 {
		switch args[1] {
		case "serve":
		case "healthcheck":
			return healthcheck(ctx, cfg.Addr)
		default:
			return fmt.Errorf("unknown command %q (commands: serve, healthcheck)", args[1])
		}
	}

	// Dependencies start in order and are closed in reverse order.
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()

	mongoURI, mode := cfg.MongoURI, "external"
	if cfg.embedded() {
		mode = "embedded"
		ferretLog := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		f, err := embedded.StartFerretDB(ctx, filepath.Join(cfg.DataDir, "ferretdb"), ferretLog)
		if err != nil {
			return err
		}
		closers = append(closers, func() { f.Stop(); log.Info("embedded store stopped") })
		mongoURI = f.URI()
	}
	store, err := mongostore.Open(ctx, mongoURI, cfg.MongoDB, mongostore.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	closers = append(closers, func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := store.Close(ctx); err != nil {
			log.Warn("store disconnect", "err", err)
		}
		log.Info("store disconnected")
	})

	redisURL, cacheMode := cfg.RedisURL, "external"
	if redisURL == "" {
		cacheMode = "embedded"
		r, err := embedded.StartRedis()
		if err != nil {
			return err
		}
		closers = append(closers, func() { r.Stop(); log.Info("embedded cache stopped") })
		redisURL = r.URL()
	}
	cache, err := rediscache.Open(redisURL, cfg.RedisPrefix)
	if err != nil {
		return fmt.Errorf("open cache: %w", err)
	}
	closers = append(closers, func() { _ = cache.Close(); log.Info("cache closed") })

	srv := api.New(api.Deps{
		Log:     log,
		Version: version,
		Checks:  []api.Check{{Name: "store", Ping: store}, {Name: "cache", Ping: cache}},
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on CAPMATCH_ADDR %s: %w", cfg.Addr, err)
	}
	log.Info("capmatch running", "mode", mode, "store", storeDesc(mode, cfg), "cache", cacheMode,
		"replica_set", store.ReplicaSet(), "addr", ln.Addr().String(), "version", version)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.App().Listener(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "budget", shutdownBudget.String())
	if err := srv.Shutdown(shutdownBudget); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown", "err", err)
	}
	return nil
}

// healthcheck asks the local server's /healthz, so that container health checks work in an
// image without curl or a shell.
func healthcheck(ctx context.Context, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: status %d", resp.StatusCode)
	}
	return nil
}

func storeDesc(mode string, cfg config) string {
	if mode == "embedded" {
		return "ferretdb+sqlite in " + filepath.Join(cfg.DataDir, "ferretdb")
	}
	return "mongodb"
}
