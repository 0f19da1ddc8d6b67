// Package redistest gives tests a Redis: the real server named by REDIS_URL when it is set (CI
// starts one), else an in-process miniredis per test. Each test gets its own key prefix, so
// tests sharing one real server never see each other's keys. StartCluster and StartSentinel
// (procs.go) start real Redis Cluster and Sentinel deployments as processes.
package redistest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/capmatch/capmatch/adapters/embedded"
)

// Real reports whether tests run against a real redis-server.
func Real() bool { return os.Getenv("REDIS_URL") != "" }

// URL returns a Redis URL for the test: REDIS_URL, or a fresh in-process server stopped when
// the test ends.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	r, err := embedded.StartRedis()
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(r.Stop)
	return r.URL()
}

// Prefix returns a key prefix no other test uses.
func Prefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b) + ":"
}
