package rediscache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnRealCluster runs the adapter against a real 3-master Redis Cluster: Ping, the ranking
// cache (one pipeline of SETs whose keys hash to every node), and the rate limiter's scripts,
// each of which touches several keys that must share a hash slot (they are refused with
// CROSSSLOT otherwise), and Wait and Clear over keys in different slots.
func TestOnRealCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	c, err := rediscache.Open(cl.URL(), redistest.Prefix())
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, rediscache.Cluster, c.Mode())
	ctx := context.Background()
	require.NoError(t, c.Ping(ctx))

	// Rankings: 60 entries in one Set spread over the three nodes; each reads back.
	r := rediscache.NewRankings(c, time.Minute)
	entries := map[string]*matching.Snapshot{}
	for i := range 60 {
		entries[fmt.Sprintf("n:need-%d", i)] = &matching.Snapshot{Owner: fmt.Sprintf("need-%d", i), ByNeed: true, Stamp: int64(i + 1),
			Items: []matching.Match{{NeedID: fmt.Sprintf("need-%d", i), OfferID: "offer-a", Score: 0.5}}}
	}
	require.NoError(t, r.Set(ctx, entries))
	for k, want := range entries {
		got, err := r.Get(ctx, k)
		require.NoError(t, err, k)
		require.NotNil(t, got, k)
		assert.Equal(t, want.Stamp, got.Stamp, k)
		assert.Equal(t, want.Items[0].OfferID, got.Items[0].OfferID, k)
	}
	for _, n := range cl.Nodes {
		size, err := n.Client().DBSize(ctx).Result()
		require.NoError(t, err)
		assert.Positive(t, size, "node %s holds none of the rankings: the test would not cross slots", n.Addr)
	}

	// Rate limiter: failures and blocks per key, across keys in different slots.
	l := rediscache.NewRateLimiter(c)
	b := models.Backoff{Free: 1, Base: 10 * time.Second, Max: time.Minute, Memory: time.Hour}
	keys := []string{"acct:ministry.sn@capmatch.example", "ip:192.0.2.1", "ip:198.51.100.7", "acct:donor.eu@capmatch.example"}
	for _, k := range keys {
		n, blocked, err := l.Fail(ctx, k, b)
		require.NoError(t, err, k)
		assert.Equal(t, 1, n, k)
		assert.Zero(t, blocked, k)
	}
	n, blocked, err := l.Fail(ctx, keys[1], b)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.InDelta(t, 10, blocked.Seconds(), 0.5)
	wait, err := l.Wait(ctx, keys...)
	require.NoError(t, err)
	assert.InDelta(t, 10, wait.Seconds(), 0.5, "the longest block among keys in different slots")
	wait, err = l.Wait(ctx, keys[0], keys[2])
	require.NoError(t, err)
	assert.Zero(t, wait)
	require.NoError(t, l.Clear(ctx, keys...))
	wait, err = l.Wait(ctx, keys...)
	require.NoError(t, err)
	assert.Zero(t, wait, "Clear lifted the block")
	n, _, err = l.Fail(ctx, keys[1], b)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "Clear forgot the failures")

	for i := range 3 {
		ok, _, err := l.Allow(ctx, "public:192.0.2.9", 2, time.Minute)
		require.NoError(t, err)
		assert.Equal(t, i < 2, ok, "request %d", i+1)
	}
	ok, _, err := l.Allow(ctx, "public:203.0.113.5", 2, time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "another key has its own window")
}
