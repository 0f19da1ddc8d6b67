//go:build unix

package reliability

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// proc is a child process with its exit observed by one goroutine.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	state  *os.ProcessState
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	orphanProof(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *proc) signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// kill sends SIGKILL and waits for the exit.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if !p.running() {
		return
	}
	_ = p.signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("pid %d did not exit within 10s of SIGKILL", p.cmd.Process.Pid)
	}
}

// ---- redis-server ----

// redisServer is a real redis-server on a loopback port, without persistence, that a test can
// kill, pause and restart on the same port.
type redisServer struct {
	t    *testing.T
	addr string
	dir  string
	p    *proc
	runs int
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	r := &redisServer{t: t, addr: freeAddr(t), dir: t.TempDir()}
	r.start()
	t.Cleanup(func() {
		if r.p != nil && r.p.running() {
			_ = r.p.signal(syscall.SIGCONT)
			r.p.kill(t)
		}
		if t.Failed() {
			t.Logf("redis-server log:\n%s", tail(readFile(filepath.Join(r.dir, "redis.log")), 20))
		}
	})
	return r
}

func (r *redisServer) URL() string { return "redis://" + r.addr + "/0" }

// start runs redis-server on r.addr (again) and waits until it answers PING.
func (r *redisServer) start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.addr)
	r.runs++
	cmd := exec.Command(redisBin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log"), "--daemonize", "no")
	p, err := startProc(cmd)
	if err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	r.p = p
	deadline := time.Now().Add(10 * time.Second)
	for {
		if out, err := r.cmd("PING"); err == nil && out == "+PONG" {
			return
		}
		if !p.running() || time.Now().After(deadline) {
			r.t.Fatalf("redis-server on %s did not answer PING (run %d); log:\n%s", r.addr, r.runs,
				tail(readFile(filepath.Join(r.dir, "redis.log")), 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops redis-server with SIGKILL: its data (in memory only) is gone.
func (r *redisServer) Kill() { r.t.Helper(); r.p.kill(r.t) }

// Restart starts an empty redis-server on the same port.
func (r *redisServer) Restart() { r.t.Helper(); r.start() }

// Pause stops the process with SIGSTOP: connections are accepted by the kernel, nothing answers.
func (r *redisServer) Pause() {
	r.t.Helper()
	if err := r.p.signal(syscall.SIGSTOP); err != nil {
		r.t.Fatalf("SIGSTOP redis-server: %v", err)
	}
}

// Resume continues a paused redis-server with SIGCONT.
func (r *redisServer) Resume() {
	r.t.Helper()
	if err := r.p.signal(syscall.SIGCONT); err != nil {
		r.t.Fatalf("SIGCONT redis-server: %v", err)
	}
}

// cmd sends one inline command and returns the first reply line (enough for PING, EXISTS, DBSIZE).
func (r *redisServer) cmd(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", r.addr, 500*time.Millisecond)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, strings.Join(args, " ")+"\r\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// exists reports whether a key is in Redis.
func (r *redisServer) exists(key string) bool {
	out, err := r.cmd("EXISTS", key)
	return err == nil && out == ":1"
}

// ---- the standalone store: capmatch ferretdb ----

// storeProc is `capmatch ferretdb -dir D -listen ADDR`, a store in a process of its own that a
// test can kill and restart on the same files and port.
type storeProc struct {
	t *testing.T
	// direct serves FerretDB without the write proxy (capmatch ferretdb -direct).
	direct bool
	dir    string
	addr   string
	uri    string
	p      *proc
	errf   string
}

func startStore(t *testing.T) *storeProc {
	t.Helper()
	return startStoreWith(t, false)
}

// startStoreWith starts the store through the write proxy, or straight (direct).
func startStoreWith(t *testing.T, direct bool) *storeProc {
	t.Helper()
	d := t.TempDir()
	s := &storeProc{t: t, direct: direct, dir: filepath.Join(d, "ferretdb"), addr: freeAddr(t), errf: filepath.Join(d, "stderr.log")}
	s.start()
	t.Cleanup(func() {
		if s.p.running() {
			_ = s.p.signal(syscall.SIGTERM)
			select {
			case <-s.p.exited:
			case <-time.After(10 * time.Second):
				s.p.kill(t)
			}
		}
		if t.Failed() {
			t.Logf("store stderr:\n%s", tail(readFile(s.errf), 20))
		}
	})
	return s
}

func (s *storeProc) start() {
	s.t.Helper()
	errOut, err := os.OpenFile(s.errf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	defer errOut.Close()
	args := []string{"ferretdb", "-dir", s.dir, "-listen", s.addr}
	if s.direct {
		args = append(args, "-direct")
	}
	cmd := exec.Command(binPath, args...)
	cmd.Env = []string{"HOME=" + filepath.Dir(s.dir)}
	cmd.Stderr = errOut
	uri := make(chan string, 1)
	cmd.Stdout = &lineWriter{fn: func(l string) {
		if strings.HasPrefix(l, "mongodb://") {
			select {
			case uri <- l:
			default:
			}
		}
	}}
	p, err := startProc(cmd)
	if err != nil {
		s.t.Fatalf("start capmatch ferretdb: %v", err)
	}
	s.p = p
	select {
	case u := <-uri:
		s.uri = u
	case <-p.exited:
		s.t.Fatalf("capmatch ferretdb exited before printing its URI; stderr:\n%s", tail(readFile(s.errf), 20))
	case <-time.After(30 * time.Second):
		s.p.kill(s.t)
		s.t.Fatalf("capmatch ferretdb printed no URI within 30s; stderr:\n%s", tail(readFile(s.errf), 20))
	}
}

// URI is the mongodb:// address of the store (the same after a restart).
func (s *storeProc) URI() string { return s.uri }

// Kill stops the store with SIGKILL.
func (s *storeProc) Kill() { s.t.Helper(); s.p.kill(s.t) }

// Restart starts the store again on the same files and port.
func (s *storeProc) Restart() { s.t.Helper(); s.start() }

// ---- the API ----

// apiProc is a capmatch API process.
type apiProc struct {
	t    *testing.T
	name string
	env  map[string]string
	base string
	p    *proc
	out  *lineLog
	errf string
}

// lineLog keeps the API's JSON log lines.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *lineLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// logLine is the part of a JSON log line the tests read.
type logLine struct {
	Level     string `json:"level"`
	Msg       string `json:"msg"`
	Addr      string `json:"addr"`
	Method    string `json:"method"`
	Route     string `json:"route"`
	Status    int    `json:"status"`
	RequestID string `json:"request_id"`
	// CorrelationID is the client's own id for the request (its X-Correlation-Id), which the
	// server logs beside the request id it draws itself.
	CorrelationID string `json:"correlation_id"`
	Err           string `json:"err"`
}

// requests returns the access log: the client's correlation id → status.
func (l *lineLog) requests() map[string]int {
	m := map[string]int{}
	for _, s := range l.snapshot() {
		var ll logLine
		if json.Unmarshal([]byte(s), &ll) == nil && ll.Msg == "request" && ll.CorrelationID != "" {
			m[ll.CorrelationID] = ll.Status
		}
	}
	return m
}

// notable returns the log lines at WARN or above, and the messages that are not requests.
func (l *lineLog) notable() []string {
	var out []string
	for _, s := range l.snapshot() {
		var ll logLine
		if json.Unmarshal([]byte(s), &ll) != nil || ll.Msg != "request" || ll.Status >= 500 {
			if ll.Msg != "demo account" {
				out = append(out, s)
			}
		}
	}
	return out
}

// apiEnv is the environment of an API process; nothing is inherited from the test's own
// environment (CI exports REDIS_URL for other packages).
func apiEnv(t *testing.T, kv ...string) map[string]string {
	env := map[string]string{
		"CAPMATCH_ADDR":      "127.0.0.1:0",
		"CAPMATCH_LOG_LEVEL": "info",
		"CAPMATCH_DATA_DIR":  t.TempDir(),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// startAPI runs the capmatch binary with env and waits for its "capmatch running" log line.
func startAPI(t *testing.T, name string, env map[string]string) *apiProc {
	t.Helper()
	a := &apiProc{t: t, name: name, env: env, errf: filepath.Join(t.TempDir(), name+".stderr")}
	a.start()
	t.Cleanup(func() {
		a.stop()
		if t.Failed() {
			t.Logf("%s log (warnings, errors, lifecycle; last 40):\n%s", a.name, strings.Join(lastN(a.out.notable(), 40), "\n"))
			t.Logf("%s stderr:\n%s", a.name, tail(readFile(a.errf), 20))
		}
	})
	return a
}

func (a *apiProc) start() {
	a.t.Helper()
	errOut, err := os.OpenFile(a.errf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		a.t.Fatal(err)
	}
	defer errOut.Close()
	cmd := exec.Command(binPath)
	cmd.Env = []string{"HOME=" + a.env["CAPMATCH_DATA_DIR"]}
	for k, v := range a.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = errOut
	out := &lineLog{}
	addr := make(chan string, 1)
	cmd.Stdout = &lineWriter{fn: func(line string) {
		out.add(line)
		var ll logLine
		if strings.Contains(line, `"capmatch running"`) && json.Unmarshal([]byte(line), &ll) == nil && ll.Msg == "capmatch running" {
			select {
			case addr <- ll.Addr:
			default:
			}
		}
	}}
	p, err := startProc(cmd)
	if err != nil {
		a.t.Fatalf("start %s: %v", a.name, err)
	}
	a.p, a.out = p, out
	select {
	case s := <-addr:
		a.base = "http://" + s
	case <-p.exited:
		a.t.Fatalf("%s exited (%v) before listening; log:\n%s\nstderr:\n%s", a.name, p.state,
			strings.Join(lastN(a.out.snapshot(), 30), "\n"), tail(readFile(a.errf), 20))
	case <-time.After(60 * time.Second):
		p.kill(a.t)
		a.t.Fatalf("%s did not listen within 60s; log:\n%s", a.name, strings.Join(lastN(a.out.snapshot(), 30), "\n"))
	}
}

// stop ends the process: SIGTERM, then SIGKILL if it lingers.
func (a *apiProc) stop() {
	if !a.p.running() {
		return
	}
	_ = a.p.signal(syscall.SIGTERM)
	select {
	case <-a.p.exited:
	case <-time.After(15 * time.Second):
		a.t.Errorf("%s did not exit within 15s of SIGTERM", a.name)
		a.p.kill(a.t)
	}
}

// Kill ends the process with SIGKILL.
func (a *apiProc) Kill() { a.t.Helper(); a.p.kill(a.t) }

// Restart starts the process again with the same environment (a new port unless
// CAPMATCH_ADDR names one).
func (a *apiProc) Restart() { a.t.Helper(); a.start() }

// ---- small helpers ----

// lineWriter calls fn with each complete line written to it (a child's stdout).
type lineWriter struct {
	mu  sync.Mutex
	buf []byte
	fn  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.fn(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(b)
}

func tail(s string, n int) string {
	return strings.Join(lastN(strings.Split(strings.TrimRight(s, "\n"), "\n"), n), "\n")
}

func lastN(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// ms formats a duration in milliseconds for the figures.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

// isRefused reports whether err is a refused connection: the request was never sent.
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
