package rediscache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSentinelFailover runs the adapter through Redis Sentinel (a primary, one replica, three
// sentinels), kills the primary (SIGKILL) while a writer keeps writing through the adapter's
// client, and checks that the client finds the promoted replica by itself: writes succeed
// again within a bound, Ping works, and the rate limiter works on the new primary. It reports
// how many writes Redis acknowledged before the kill and lost (asynchronous replication: what
// Redis holds is a cache, never the source of truth).
func TestSentinelFailover(t *testing.T) {
	g := redistest.StartSentinel(t, 1, 3)
	c, err := rediscache.Open(g.URL(), redistest.Prefix())
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, rediscache.Sentinel, c.Mode())
	ctx := context.Background()
	require.NoError(t, c.Ping(ctx))
	l := rediscache.NewRateLimiter(c)
	b := models.Backoff{Free: 0, Base: 30 * time.Second, Max: time.Minute, Memory: time.Hour}
	_, blocked, err := l.Fail(ctx, "acct:before", b)
	require.NoError(t, err)
	require.Positive(t, blocked)

	// The writer: one SET every 2 ms; it records which succeeded and when.
	var mu sync.Mutex
	var acked []string
	var ackedAt []time.Time
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			k := c.Key("w", fmt.Sprint(i))
			if c.Redis().Set(ctx, k, "1", time.Minute).Err() == nil {
				mu.Lock()
				acked, ackedAt = append(acked, k), append(ackedAt, time.Now())
				mu.Unlock()
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	old, err := g.PrimaryAddr(ctx)
	require.NoError(t, err)
	killAt := time.Now()
	g.Server(old).Kill()
	promoted := g.WaitNewPrimary(t, old, 20*time.Second)
	promotedAt := time.Now()
	// The first write acknowledged after the kill went to the new primary.
	var firstWrite time.Duration
	deadline := time.Now().Add(10 * time.Second)
	for firstWrite == 0 && time.Now().Before(deadline) {
		mu.Lock()
		if n := len(ackedAt); n > 0 && ackedAt[n-1].After(promotedAt) {
			for i := n - 1; i >= 0 && ackedAt[i].After(killAt); i-- {
				firstWrite = ackedAt[i].Sub(killAt)
			}
		}
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	<-done
	require.NotZero(t, firstWrite, "no write succeeded within 10s of the new primary's promotion")
	require.NoError(t, c.Ping(ctx))

	// Every acknowledged write is looked for on the new primary.
	lost := 0
	for _, k := range acked {
		n, err := promoted.Client().Exists(ctx, k).Result()
		require.NoError(t, err)
		if n == 0 {
			lost++
		}
	}
	wait, err := l.Wait(ctx, "acct:before")
	require.NoError(t, err)
	t.Logf("FIGURE sentinel-adapter kill primary → sentinels name the new one: %v; kill → first write acknowledged by the new primary: %v",
		promotedAt.Sub(killAt).Round(time.Millisecond), firstWrite.Round(time.Millisecond))
	t.Logf("FIGURE sentinel-adapter writes acknowledged: %d, lost in the failover: %d; a block set before the failover: %v left after it",
		len(acked), lost, wait.Round(time.Second))
	_, _, err = l.Fail(ctx, "acct:after", b)
	require.NoError(t, err, "the limiter works on the new primary")
	ok, _, err := l.Allow(ctx, "public:192.0.2.9", 5, time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
}
