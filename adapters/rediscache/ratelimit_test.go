package rediscache_test

import (
	"context"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// limiters returns the limiter on the test's Redis (REDIS_URL when set) and, always, one on
// the embedded default, so the limiter's expiries are checked on what `go run` uses too.
func limiters(t *testing.T) map[string]*rediscache.RateLimiter {
	t.Helper()
	out := map[string]*rediscache.RateLimiter{}
	open := func(name, url string) {
		c, err := rediscache.Open(url, redistest.Prefix())
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		out[name] = rediscache.NewRateLimiter(c)
	}
	r, err := embedded.StartRedis()
	require.NoError(t, err)
	t.Cleanup(r.Stop)
	open("embedded", r.URL())
	if redistest.Real() {
		open("redis-server", redistest.URL(t))
	}
	return out
}

// TestFailScriptMatchesBackoff: the Lua script blocks a key exactly as long as
// models.Backoff.Delay says, failure after failure, up to the maximum.
func TestFailScriptMatchesBackoff(t *testing.T) {
	ctx := context.Background()
	b := models.Backoff{Free: 3, Base: 2 * time.Second, Max: 60 * time.Second, Memory: time.Hour}
	for name, l := range limiters(t) {
		t.Run(name, func(t *testing.T) {
			var blocks []time.Duration
			for n := 1; n <= 12; n++ {
				got, blocked, err := l.Fail(ctx, "acct", b)
				require.NoError(t, err)
				assert.Equal(t, n, got)
				// The block is set now; allow for the clock having moved on a little.
				assert.InDelta(t, b.Delay(n).Seconds(), blocked.Seconds(), 0.2, "failure %d", n)
				blocks = append(blocks, blocked.Round(time.Second))
			}
			assert.Equal(t, []time.Duration{0, 0, 0, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
				32 * time.Second, 60 * time.Second, 60 * time.Second, 60 * time.Second, 60 * time.Second}, blocks, "the back-off grows, up to its maximum")
			wait, err := l.Wait(ctx, "other", "acct")
			require.NoError(t, err)
			assert.InDelta(t, 60, wait.Seconds(), 0.5)
			require.NoError(t, l.Clear(ctx, "acct"))
			wait, err = l.Wait(ctx, "acct")
			require.NoError(t, err)
			assert.Zero(t, wait, "a success clears the block")
			n, _, err := l.Fail(ctx, "acct", b)
			require.NoError(t, err)
			assert.Equal(t, 1, n, "and the failures")
		})
	}
}

// TestBlocksAndFailuresExpire: blocks lift and failures are forgotten when their time is up,
// in the embedded default as on a real Redis.
func TestBlocksAndFailuresExpire(t *testing.T) {
	ctx := context.Background()
	b := models.Backoff{Free: 1, Base: 300 * time.Millisecond, Max: time.Second, Memory: 800 * time.Millisecond}
	for name, l := range limiters(t) {
		t.Run(name, func(t *testing.T) {
			_, _, err := l.Fail(ctx, "k", b)
			require.NoError(t, err)
			_, blocked, err := l.Fail(ctx, "k", b)
			require.NoError(t, err)
			require.Greater(t, blocked, time.Duration(0))
			assert.Eventually(t, func() bool {
				w, err := l.Wait(ctx, "k")
				return err == nil && w == 0
			}, 3*time.Second, 20*time.Millisecond, "the block lifts")
			// Failures are forgotten Memory after the last one: the next failure is the first
			// again, and free. Each probe is a failure that refreshes the memory, so probes are
			// further apart than Memory (plus the embedded clock's tick).
			assert.Eventually(t, func() bool {
				n, blocked, err := l.Fail(ctx, "k", b)
				return err == nil && n == 1 && blocked == 0
			}, 6*time.Second, 1200*time.Millisecond, "failures are forgotten after Memory")
		})
	}
}

// TestRequestWindowCountsAndResets: the public request limit (models.RequestLimiter) allows
// limit requests a window, then says how long until the window resets, and starts again
// after it; its counter is apart from the sign-in back-off's under the same key.
func TestRequestWindowCountsAndResets(t *testing.T) {
	ctx := context.Background()
	for name, l := range limiters(t) {
		t.Run(name, func(t *testing.T) {
			var _ models.RequestLimiter = l
			for i := 0; i < 3; i++ {
				ok, _, err := l.Allow(ctx, "public:192.0.2.1", 3, 500*time.Millisecond)
				require.NoError(t, err)
				require.True(t, ok, "request %d is within the limit", i+1)
			}
			ok, retry, err := l.Allow(ctx, "public:192.0.2.1", 3, 500*time.Millisecond)
			require.NoError(t, err)
			assert.False(t, ok, "the fourth is over the limit")
			assert.Greater(t, retry, time.Duration(0))
			assert.LessOrEqual(t, retry, 500*time.Millisecond)
			ok, _, err = l.Allow(ctx, "public:192.0.2.2", 3, 500*time.Millisecond)
			require.NoError(t, err)
			assert.True(t, ok, "another address has its own window")
			n, _, err := l.Fail(ctx, "public:192.0.2.1", models.Backoff{Free: 5, Base: time.Second, Max: time.Second, Memory: time.Second})
			require.NoError(t, err)
			assert.Equal(t, 1, n, "the back-off counts failures apart from requests")
			assert.Eventually(t, func() bool {
				ok, _, err := l.Allow(ctx, "public:192.0.2.1", 3, 500*time.Millisecond)
				return err == nil && ok
			}, 3*time.Second, 100*time.Millisecond, "the window resets")
		})
	}
}
