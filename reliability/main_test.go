//go:build unix

// Package reliability holds fault-injection tests (issue 8) that run the real capmatch binary
// against a real redis-server and a standalone store process (`capmatch ferretdb`), and kill,
// pause and restart them under load. Every scenario, the command that reproduces it and the
// figures measured are in RELIABILITY.md at the repository root.
//
// The tests need redis-server (and redis-sentinel for the Sentinel scenario) in PATH and fail
// (they do not skip) when it is missing; under `go test -short` they are skipped. `make test`
// runs them all in about two minutes (the Redis Cluster and Sentinel scenarios take about 70 s);
// `make test-soak` (CAPMATCH_SOAK=1) makes every load phase and outage ten times longer and
// adds the scenarios that take longer than a minute. All traffic goes to 127.0.0.1; every loop
// is bounded in count and in time.
package reliability

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var (
	// soak is CAPMATCH_SOAK=1 (make test-soak): load phases and outages ten times longer, and
	// the scenarios too slow for every run.
	soak = os.Getenv("CAPMATCH_SOAK") == "1"
	// loadLimit bounds any load in time.
	loadLimit = phase(60 * time.Second)

	// binPath is the capmatch binary under test, built once by TestMain.
	binPath string
	// redisBin is redis-server's path; redisErr says why it was not found.
	redisBin string
	redisErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	redisBin, redisErr = exec.LookPath("redis-server")
	if testing.Short() || redisErr != nil {
		os.Exit(m.Run()) // every test skips (-short) or fails (no redis-server) before using the binary
	}
	dir, err := os.MkdirTemp("", "capmatch-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "capmatch")
	start := time.Now()
	build := exec.Command("go", "build", "-o", binPath, "github.com/capmatch/capmatch/cmd/capmatch")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "reliability: go build ./cmd/capmatch failed: %v\n", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	if testing.Verbose() {
		fmt.Printf("reliability: built %s in %v\n", binPath, time.Since(start).Round(time.Millisecond))
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// slow marks a test that starts processes: skipped under -short, and failed (not skipped)
// when redis-server is missing.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the reliability tests start real processes")
	}
	if redisErr != nil {
		t.Fatalf("redis-server is required by the reliability tests and was not found in PATH (%v); "+
			"install it (Debian/Ubuntu: apt-get install redis-server) or run with -short to skip these tests", redisErr)
	}
}

// phase is the length of a load phase or an outage: d, or 10×d when soaking.
func phase(d time.Duration) time.Duration {
	if soak {
		return 10 * d
	}
	return d
}

// soakOnly marks a scenario that runs only under make test-soak (CAPMATCH_SOAK=1).
func soakOnly(t *testing.T) {
	t.Helper()
	slow(t)
	if !soak {
		t.Skip("soak only (about a minute): run make test-soak, or set CAPMATCH_SOAK=1")
	}
}
