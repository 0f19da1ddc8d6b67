// Package embedded starts the in-process servers of capmatch's default mode: FerretDB (a
// MongoDB wire-protocol server on SQLite) and miniredis (a Redis-protocol server), so that
// `go run ./cmd/capmatch` works on a machine where neither MongoDB nor Redis can be installed.
// Production sets MONGO_URI and REDIS_URL and starts nothing from here.
package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/alicebob/miniredis/v2"
	_ "modernc.org/sqlite" // the "sqlite" driver FerretDB's backend uses, for IndexIDs
)

// FerretDB is a running in-process FerretDB server with its SQLite files in a directory.
type FerretDB struct {
	dir    string // the SQLite files, one per database
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
	return StartFerretDBWith(ctx, dir, Config{Addr: addr}, logger)
}

// Sync values: how SQLite makes a committed write durable (its synchronous pragma, in WAL mode).
const (
	// SyncFull, the default, syncs the write-ahead log to disk at every commit: an
	// acknowledged write survives a power loss or an operating-system crash.
	SyncFull = "full"
	// SyncNormal syncs the write-ahead log only at checkpoints: commits skip the fsync (2.2 ms
	// each on the disk measured in BENCHMARKS.md, target 4). An acknowledged write survives
	// capmatch crashing or being killed, since it is in the log file the operating system
	// holds, but the last commits before a power loss or an operating-system crash may be
	// rolled back (the database stays consistent). Opt-in: CAPMATCH_EMBEDDED_SYNC=normal.
	SyncNormal = "normal"
)

// Config is how StartFerretDBWith runs the embedded store.
type Config struct {
	// Addr is the TCP address (host:port; port 0 picks a free one). Default 127.0.0.1:0.
	Addr string
	// Sync is SyncFull (the default when empty) or SyncNormal.
	Sync string
}

// sqliteURL is FerretDB's SQLiteURL for the directory abs under c: FerretDB keeps the
// pragmas it is given and adds its own (busy_timeout, WAL journal) after them.
func (c Config) sqliteURL(abs string) (string, error) {
	u := "file:" + abs + "/"
	switch c.Sync {
	case "", SyncFull:
		return u, nil // SQLite's default in WAL mode is FULL
	case SyncNormal:
		return u + "?_pragma=synchronous(normal)", nil
	}
	return "", fmt.Errorf("embedded store: sync %q must be %q or %q", c.Sync, SyncFull, SyncNormal)
}

// StartFerretDBWith is StartFerretDB configured by c.
func StartFerretDBWith(ctx context.Context, dir string, c Config, logger *slog.Logger) (*FerretDB, error) {
	addr := c.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create ferretdb dir: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("ferretdb dir: %w", err)
	}
	sqliteURL, err := c.sqliteURL(abs)
	if err != nil {
		return nil, err
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &FerretDB{dir: abs, cancel: cancel, done: make(chan struct{})}
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

// IndexIDs works around a FerretDB 1.24 bug that makes every lookup by _id scan its whole
// collection: the SQLite backend finds and updates documents by the expression
// _ferretdb_sjson->'$._id' but indexes _ferretdb_sjson->"_id", which SQLite does not take for
// the same expression, so each find, update or delete by _id parses every document of the
// collection (measured here: a find by _id in 17 ms at about 1,800 engagements, and growing
// with them). For each collection of database db that exists now, it adds an index on the
// exact expression FerretDB queries, through a second connection to the database file;
// SQLite then answers those lookups from the index. It is idempotent, and the index is
// invisible to FerretDB (which neither lists nor needs it) and is dropped with its table.
// Call it once the collections exist. It returns how many indexes it created.
func (s *FerretDB) IndexIDs(ctx context.Context, db string) (int, error) {
	if !validName.MatchString(db) {
		return 0, fmt.Errorf("index ids: database name %q", db)
	}
	path := filepath.Join(s.dir, db+".sqlite")
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("index ids: %w", err)
	}
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("index ids: open %s: %w", path, err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, "SELECT table_name FROM _ferretdb_collections")
	if err != nil {
		return 0, fmt.Errorf("index ids: list collections: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return 0, fmt.Errorf("index ids: %w", err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("index ids: %w", err)
	}
	created := 0
	for _, t := range tables {
		if !validName.MatchString(t) {
			return created, fmt.Errorf("index ids: unexpected table name %q", t)
		}
		name := t + "_capmatch_id"
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?", name).Scan(&n); err != nil {
			return created, fmt.Errorf("index ids: %w", err)
		}
		if n > 0 {
			continue
		}
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS "%s" ON "%s" (_ferretdb_sjson->'$._id')`, name, t)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return created, fmt.Errorf("index ids: %s: %w", t, err)
		}
		created++
	}
	return created, nil
}

// validName is what database and FerretDB table names look like; anything else is refused
// rather than quoted into SQL.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,120}$`)

// URI is the mongodb:// address clients connect to.
func (s *FerretDB) URI() string { return s.uri }

// Addr is the host:port FerretDB listens on (for StartWriteProxy's backend).
func (s *FerretDB) Addr() string {
	return strings.TrimSuffix(strings.TrimPrefix(s.uri, "mongodb://"), "/")
}

// Stop shuts the server down and waits until its files are closed.
func (s *FerretDB) Stop() {
	s.cancel()
	<-s.done
}

// Redis is a running in-process Redis-protocol server.
type Redis struct {
	m        *miniredis.Miniredis
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// clockTick is how often the embedded Redis moves its keys' lifetimes on with the wall clock:
// a key expires at most this late, and a remaining lifetime (PTTL) is at most this stale.
const clockTick = 100 * time.Millisecond

// StartRedis starts miniredis on a free loopback port, with a clock. miniredis is made for
// unit tests: on its own a key's lifetime shrinks only when a test calls FastForward, so in
// the embedded default every key given a lifetime (sign-in failure counters and back-offs,
// above all) would live until the process stops. A goroutine therefore moves every lifetime
// on by the wall-clock time that passed, every clockTick, as a real Redis does continuously.
// (miniredis's own ClockTTL option does the same on every command instead, sorting every key
// each time; the tick keeps that cost fixed whatever the traffic.)
func StartRedis() (*Redis, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start miniredis: %w", err)
	}
	r := &Redis{m: m, stop: make(chan struct{}), done: make(chan struct{})}
	go r.runClock()
	return r, nil
}

// runClock advances the server's key lifetimes by the (monotonic) time elapsed since the last
// tick, until Stop.
func (r *Redis) runClock() {
	defer close(r.done)
	t := time.NewTicker(clockTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			if d := now.Sub(last); d > 0 {
				r.m.FastForward(d)
				last = now
			}
		}
	}
}

// URL is the redis:// address clients connect to.
func (r *Redis) URL() string { return "redis://" + r.m.Addr() }

// Server exposes miniredis for tests that inspect or flush keys.
func (r *Redis) Server() *miniredis.Miniredis { return r.m }

// Stop shuts the server and its clock down.
func (r *Redis) Stop() {
	r.stopOnce.Do(func() {
		close(r.stop)
		<-r.done
		r.m.Close()
	})
}

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
