// Package embedded starts the in-process servers of capmatch's default mode: FerretDB (a
// MongoDB wire-protocol server on SQLite) and miniredis (a Redis-protocol server), so that
// `go run ./cmd/capmatch` works on a machine where neither MongoDB nor Redis can be installed.
// Production sets MONGO_URI and REDIS_URL and starts nothing from here.
package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/alicebob/miniredis/v2"
)

// FerretDB is a running in-process FerretDB server with its SQLite files in a directory.
type FerretDB struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// StartFerretDB starts FerretDB with the SQLite backend storing its files under dir, listening
// on a free loopback port, and returns once it accepts connections. logger receives FerretDB's
// own log; pass one at Error level to keep the driver chatter out of the access log.
func StartFerretDB(ctx context.Context, dir string, logger *slog.Logger) (*FerretDB, error) {
	return StartFerretDBAt(ctx, dir, "127.0.0.1:0", logger)
}

// StartFerretDBAt is StartFerretDB on a given TCP address (host:port; port 0 picks a free one).
func StartFerretDBAt(ctx context.Context, dir, addr string, logger *slog.Logger) (*FerretDB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create ferretdb dir: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("ferretdb dir: %w", err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &FerretDB{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = f.Run(runCtx)
	}()
	// MongoDBURI blocks until the listener is bound.
	s.uri = f.MongoDBURI()
	if err := waitTCP(ctx, s.uri[len("mongodb://"):len(s.uri)-1], 10*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("ferretdb did not start: %w", err)
	}
	return s, nil
}

// URI is the mongodb:// address clients connect to.
func (s *FerretDB) URI() string { return s.uri }

// Stop shuts the server down and waits until its files are closed.
func (s *FerretDB) Stop() {
	s.cancel()
	<-s.done
}

// Redis is a running in-process Redis-protocol server.
type Redis struct {
	m *miniredis.Miniredis
}

// StartRedis starts miniredis on a free loopback port.
func StartRedis() (*Redis, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start miniredis: %w", err)
	}
	return &Redis{m: m}, nil
}

// URL is the redis:// address clients connect to.
func (r *Redis) URL() string { return "redis://" + r.m.Addr() }

// Server exposes miniredis for tests that fast-forward its clock or inspect keys.
func (r *Redis) Server() *miniredis.Miniredis { return r.m }

// Stop shuts the server down.
func (r *Redis) Stop() { r.m.Close() }

func waitTCP(ctx context.Context, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
