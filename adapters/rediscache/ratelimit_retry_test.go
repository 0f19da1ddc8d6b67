package rediscache_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/capmatch/capmatch/models"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lateProxy forwards TCP to a Redis; once armed, it holds back the next reply it receives for
// longer than rediscache.IOTimeout, so the client gives up on a command that Redis has run.
type lateProxy struct {
	ln    net.Listener
	armed atomic.Bool
	wg    sync.WaitGroup
}

func startLateProxy(t *testing.T, target string) *lateProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &lateProxy{ln: ln}
	t.Cleanup(func() { _ = ln.Close(); p.wg.Wait() })
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.wg.Add(2)
			go func() { defer p.wg.Done(); _, _ = io.Copy(s, c); _ = s.Close() }()
			go func() {
				defer p.wg.Done()
				defer c.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 {
						if p.armed.CompareAndSwap(true, false) {
							time.Sleep(2*rediscache.IOTimeout + 100*time.Millisecond)
						}
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}

// TestFailCountsOnceWhenTheAnswerIsLate: a failure is counted once even when Redis answers
// after the client's IOTimeout and the client sends the command again (go-redis retries a
// timed-out command, MaxRetries). Counted twice, a slow Redis would shorten everyone's free
// sign-in failures.
func TestFailCountsOnceWhenTheAnswerIsLate(t *testing.T) {
	ctx := context.Background()
	r, err := embedded.StartRedis()
	require.NoError(t, err)
	t.Cleanup(r.Stop)
	targets := map[string]string{"embedded": r.URL()}
	if standaloneReal(t) {
		targets["redis-server"] = redistest.URL(t)
	}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			opt, err := redis.ParseURL(target)
			require.NoError(t, err)
			p := startLateProxy(t, opt.Addr)
			prefix := redistest.Prefix()
			c, err := rediscache.Open(fmt.Sprintf("redis://%s/%d", p.ln.Addr(), opt.DB), prefix)
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			l := rediscache.NewRateLimiter(c)
			b := models.Backoff{Free: 5, Base: time.Second, Max: time.Minute, Memory: time.Hour}
			_, _, err = l.Fail(ctx, "warm-up", b) // loads the script, opens the connection
			require.NoError(t, err)

			p.armed.Store(true)
			n, _, err := l.Fail(ctx, "acct", b)
			if err == nil {
				assert.Equal(t, 1, n, "the first failure, counted once")
			}
			direct, err := rediscache.Open(target, prefix)
			require.NoError(t, err)
			t.Cleanup(func() { _ = direct.Close() })
			n, _, err = rediscache.NewRateLimiter(direct).Fail(ctx, "acct", b)
			require.NoError(t, err)
			assert.Equal(t, 2, n, "the second failure of the key")
		})
	}
}

// TestAllowCountsOnceWhenTheAnswerIsLate: the public request limit (Allow) counts a request
// once even when Redis answers after the client's IOTimeout and the client sends the script
// again, as TestFailCountsOnceWhenTheAnswerIsLate does for sign-in failures. Counted twice, a
// slow Redis would refuse open-data readers before their limit.
func TestAllowCountsOnceWhenTheAnswerIsLate(t *testing.T) {
	ctx := context.Background()
	r, err := embedded.StartRedis()
	require.NoError(t, err)
	t.Cleanup(r.Stop)
	targets := map[string]string{"embedded": r.URL()}
	if standaloneReal(t) {
		targets["redis-server"] = redistest.URL(t)
	}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			opt, err := redis.ParseURL(target)
			require.NoError(t, err)
			p := startLateProxy(t, opt.Addr)
			prefix := redistest.Prefix()
			c, err := rediscache.Open(fmt.Sprintf("redis://%s/%d", p.ln.Addr(), opt.DB), prefix)
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			l := rediscache.NewRateLimiter(c)
			_, _, err = l.Allow(ctx, "warm-up", 2, time.Minute) // loads the script, opens the connection
			require.NoError(t, err)

			p.armed.Store(true)
			ok, _, err := l.Allow(ctx, "public:192.0.2.9", 2, time.Minute)
			if err == nil {
				assert.True(t, ok, "the first request")
			}
			direct, err := rediscache.Open(target, prefix)
			require.NoError(t, err)
			t.Cleanup(func() { _ = direct.Close() })
			ok, _, err = rediscache.NewRateLimiter(direct).Allow(ctx, "public:192.0.2.9", 2, time.Minute)
			require.NoError(t, err)
			assert.True(t, ok, "the second request of a limit of 2 is allowed: the first was counted once")
			ok, _, err = rediscache.NewRateLimiter(direct).Allow(ctx, "public:192.0.2.9", 2, time.Minute)
			require.NoError(t, err)
			assert.False(t, ok, "the third is over the limit")
		})
	}
}

// standaloneReal reports whether the tests run against a real Redis that is one server: the
// late-answer proxy fronts one address, so a Sentinel or Cluster REDIS_URL runs the embedded
// case only.
func standaloneReal(t *testing.T) bool {
	t.Helper()
	if !redistest.Real() {
		return false
	}
	cfg, err := rediscache.ParseURL(redistest.URL(t))
	return err == nil && cfg.Mode == rediscache.Standalone
}
