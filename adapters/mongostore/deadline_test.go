package mongostore_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore"
	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relay is a TCP relay to the store that the test can freeze: while frozen it forwards nothing
// in either direction, like a store that stopped answering (a paused VM, a dead primary whose
// connections the kernel keeps open).
type relay struct {
	ln      net.Listener
	backend string
	gate    sync.RWMutex
	mu      sync.Mutex
	conns   []net.Conn
}

func startRelay(t *testing.T, backend string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &relay{ln: ln, backend: backend}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				_ = c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, b)
			r.mu.Unlock()
			go r.pipe(c, b)
			go r.pipe(b, c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		r.mu.Lock()
		for _, c := range r.conns {
			_ = c.Close()
		}
		r.mu.Unlock()
	})
	return r
}

func (r *relay) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			r.gate.RLock()
			_, werr := to.Write(buf[:n])
			r.gate.RUnlock()
			if werr != nil {
				return
			}
		}
		if err != nil {
			_ = to.Close()
			return
		}
	}
}

func (r *relay) URI() string { return "mongodb://" + r.ln.Addr().String() + "/" }
func (r *relay) freeze()     { r.gate.Lock() }
func (r *relay) thaw()       { r.gate.Unlock() }

// TestStoreCallsAreBounded: when the store stops answering, a read and a write return
// ErrUnavailable (503) within the store's timeout instead of hanging the request.
func TestStoreCallsAreBounded(t *testing.T) {
	u, err := url.Parse(storetest.URI())
	require.NoError(t, err)
	r := startRelay(t, u.Host)
	ctx := context.Background()
	const timeout = 500 * time.Millisecond
	s, err := mongostore.Open(ctx, r.URI(), storetest.NewDBName(), mongostore.Options{Timeout: timeout,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Database().Drop(ctx); _ = s.Close(ctx) })
	require.NoError(t, s.CreateNeed(ctx, &models.Need{ID: "n1", Title: "v1", Version: 1}))

	r.freeze()
	thawed := false
	defer func() {
		if !thawed {
			r.thaw()
		}
	}()
	for name, call := range map[string]func() error{
		"read":  func() error { _, err := s.GetNeed(ctx, "n1"); return err },
		"write": func() error { return s.ReplaceNeed(ctx, &models.Need{ID: "n1", Title: "v2", Version: 2}, 1) },
	} {
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			took := time.Since(start)
			assert.ErrorIs(t, err, models.ErrUnavailable, name)
			assert.Less(t, took, 4*timeout, "%s: bounded by the store timeout (took %v)", name, took)
			t.Logf("FIGURE %s on a store that stopped answering: %v after %v (timeout %v)", name, err, took.Round(time.Millisecond), timeout)
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: a call on a store that stopped answering had not returned after 20 s", name)
		}
	}
	r.thaw()
	thawed = true
	require.Eventually(t, func() bool { _, err := s.GetNeed(ctx, "n1"); return err == nil }, 10*time.Second, 50*time.Millisecond,
		"the store answers again once the relay forwards")
}
