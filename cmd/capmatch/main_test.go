package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logSink collects run's JSON log and reports the address it listens on.
type logSink struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	addrc chan string
	once  sync.Once
}

func newLogSink() *logSink { return &logSink{addrc: make(chan string, 1)} }

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		var line struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "capmatch running" {
			s.once.Do(func() { s.addrc <- line.Addr })
		}
	}
	return len(p), nil
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// instance is a capmatch started through run, as main starts it.
type instance struct {
	base   string
	log    *logSink
	cancel context.CancelFunc
	done   chan error
}

// startRun calls run with the given environment on a free loopback port and waits until it
// listens.
func startRun(t *testing.T, env map[string]string) *instance {
	t.Helper()
	if _, ok := env["CAPMATCH_ADDR"]; !ok {
		env["CAPMATCH_ADDR"] = "127.0.0.1:0"
	}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{log: newLogSink(), cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- run(ctx, []string{"capmatch"}, getenv, in.log, io.Discard) }()
	select {
	case addr := <-in.log.addrc:
		in.base = "http://" + addr
	case err := <-in.done:
		cancel()
		t.Fatalf("run returned before listening: %v\nlog:\n%s", err, in.log)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("run did not listen within 60s; log:\n%s", in.log)
	}
	t.Cleanup(func() { in.stop(t) })
	return in
}

// stop cancels run's context (as SIGTERM does) and waits for a clean return.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	if in.cancel == nil {
		return
	}
	in.cancel()
	in.cancel = nil
	select {
	case err := <-in.done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of shutdown")
	}
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func TestRunEmbeddedEndToEnd(t *testing.T) {
	dir := t.TempDir()
	in := startRun(t, map[string]string{"CAPMATCH_DATA_DIR": dir})
	assert.Contains(t, in.log.String(), `"mode":"embedded"`)

	resp, body := get(t, in.base+"/healthz")
	assert.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"status":"ok"}`, string(body))

	resp, body = get(t, in.base+"/readyz")
	assert.Equal(t, 200, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"store":"ok"`)
	assert.Contains(t, string(body), `"cache":"ok"`)

	resp, body = get(t, in.base+"/api/v1/openapi.json")
	assert.Equal(t, 200, resp.StatusCode)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(body, &doc))
	assert.True(t, strings.HasPrefix(doc["openapi"].(string), "3."))

	resp, body = get(t, in.base+"/docs")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(body), "/docs/assets/swagger-ui-bundle.js")
	assert.NotContains(t, string(body), "cdn")
	resp, _ = get(t, in.base+"/docs/assets/swagger-ui-bundle.js")
	assert.Equal(t, 200, resp.StatusCode)

	resp, body = get(t, in.base+"/metrics")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(body), "capmatch_http_requests_total")
	assert.Contains(t, string(body), `route="/healthz"`)

	resp, body = get(t, in.base+"/no/such/route")
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var p map[string]any
	require.NoError(t, json.Unmarshal(body, &p))
	assert.EqualValues(t, 404, p["status"])
	assert.Equal(t, "urn:capmatch:problem:not-found", p["type"])

	in.stop(t)
	assert.Contains(t, in.log.String(), "shutting down")
	assert.Contains(t, in.log.String(), "embedded store stopped")
}

func TestRunRejectsBadConfig(t *testing.T) {
	err := run(context.Background(), []string{"capmatch"}, func(k string) string {
		if k == "CAPMATCH_DEMO" {
			return "maybe"
		}
		return ""
	}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CAPMATCH_DEMO")
	assert.NotContains(t, err.Error(), "\n")
}

// TestUserCreateCommandThenServe creates an account from the shell on a data dir, starts the
// server on the same dir, signs in with it, restarts, and finds the account still there.
func TestUserCreateCommandThenServe(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CAPMATCH_DATA_DIR": dir, "CAPMATCH_DEMO": "false", "CAPMATCH_USER_PASSWORD": "a long enough password"}
	var out bytes.Buffer
	err := run(context.Background(), []string{"capmatch", "user", "create", "--email", "desk@capmatch.example", "--name", "Desk Lead",
		"--role", "admin", "--org-name", "Coordination desk", "--org-type", "coordinator"}, func(k string) string { return env[k] }, &out, io.Discard)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "created admin account")

	err = run(context.Background(), []string{"capmatch", "user", "create", "--email", "x@capmatch.example", "--name", "X",
		"--role", "ministry", "--org-name", "Ministry", "--org-type", "government"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	require.Error(t, err, "a government needs a country")
	assert.Contains(t, err.Error(), "country")

	login := func(base string) int {
		resp, err := http.Post(base+"/api/v1/auth/login", "application/json",
			strings.NewReader(`{"email":"desk@capmatch.example","password":"a long enough password"}`))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	in := startRun(t, map[string]string{"CAPMATCH_DATA_DIR": dir, "CAPMATCH_DEMO": "false"})
	assert.Equal(t, 200, login(in.base))
	in.stop(t)
	in = startRun(t, map[string]string{"CAPMATCH_DATA_DIR": dir, "CAPMATCH_DEMO": "false"})
	assert.Equal(t, 200, login(in.base), "the account survives a restart")
}

func TestAdminFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	in := startRun(t, map[string]string{"CAPMATCH_DATA_DIR": dir, "CAPMATCH_DEMO": "false",
		"CAPMATCH_ADMIN_EMAIL": "root@capmatch.example", "CAPMATCH_ADMIN_PASSWORD": "twelve chars min"})
	assert.Contains(t, in.log.String(), "created admin account")
	resp, err := http.Post(in.base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"root@capmatch.example","password":"twelve chars min"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.NotContains(t, in.log.String(), "twelve chars min", "the password is never logged")
}
