// Package storetest gives tests a real MongoDB-wire store: one embedded FerretDB per test binary
// (started in TestMain, because the race detector makes each start and each query slow) and a
// fresh database per test. Set CAPMATCH_TEST_MONGO_URI to run the same tests against a real
// MongoDB instead, or CAPMATCH_TEST_STORE_PROXY=1 to run them through the write proxy
// (embedded.WriteProxy, as `capmatch ferretdb` serves FerretDB to several API processes).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"go.mongodb.org/mongo-driver/v2/event"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/capmatch/capmatch/adapters/mongostore"
)

var (
	uri string
	// direct and proxied are the shared FerretDB's own address and the write proxy's in front
	// of it (empty against MongoDB).
	direct, proxied string
)

// Main starts the shared server, runs the tests and stops it. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
func Main(m *testing.M) int {
	if u := os.Getenv("CAPMATCH_TEST_MONGO_URI"); u != "" {
		uri = u
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "capmatch-ferretdb-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	f, err := embedded.StartFerretDB(context.Background(), dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	defer f.Stop()
	p, err := embedded.StartWriteProxy(context.Background(), "127.0.0.1:0", f.Addr(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	defer p.Stop()
	direct, proxied = f.URI(), p.URI()
	uri = direct
	if os.Getenv("CAPMATCH_TEST_STORE_PROXY") == "1" {
		uri = proxied
	}
	return m.Run()
}

// URI is the address of the shared server; valid after Main started it.
func URI() string { return uri }

// DirectURI is the shared FerretDB's own address, and ProxyURI the write proxy's in front of it;
// both are empty when the tests run against MongoDB (CAPMATCH_TEST_MONGO_URI).
func DirectURI() string { return direct }

// ProxyURI: see DirectURI.
func ProxyURI() string { return proxied }

// NewDBName returns a database name no other test uses.
func NewDBName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t_" + hex.EncodeToString(b)
}

// Open opens the store on a fresh database of the shared server and drops it when the test ends.
func Open(t testing.TB) *mongostore.Store {
	t.Helper()
	return OpenDB(t, NewDBName())
}

// OpenDB opens the store on the named database of the shared server, so that two stores (two
// API replicas) can share one database. The database is dropped when the test ends.
func OpenDB(t testing.TB, name string) *mongostore.Store {
	t.Helper()
	if uri == "" {
		t.Fatal("storetest: call storetest.Main from TestMain")
	}
	return OpenAt(t, uri, name)
}

// OpenAt opens the store on the named database at address u (URI, DirectURI or ProxyURI), with
// a connection pool of its own. The database is dropped when the test ends. On DirectURI the
// store is opened as capmatch opens its embedded store (Options.EmbeddedSQLite: write
// commands queue in the process).
func OpenAt(t testing.TB, u, name string) *mongostore.Store {
	t.Helper()
	return OpenMonitored(t, u, name, nil)
}

// OpenMonitored is OpenAt with a command monitor (nil: none), for tests that count the store
// round trips of a use case.
func OpenMonitored(t testing.TB, u, name string, mon *event.CommandMonitor) *mongostore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := mongostore.Open(ctx, u, name, mongostore.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), EmbeddedSQLite: u != "" && u == direct, Monitor: mon})
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Database().Drop(context.Background())
		_ = s.Close(context.Background())
	})
	return s
}
