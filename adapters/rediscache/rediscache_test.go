package rediscache_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPingAndKeys(t *testing.T) {
	c, err := rediscache.Open(redistest.URL(t), "cm:")
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Ping(context.Background()))
	assert.Equal(t, "cm:rank:need:42", c.Key("rank", "need", "42"))
}

func TestOpenRejectsBadURL(t *testing.T) {
	_, err := rediscache.Open("http://localhost", "")
	assert.Error(t, err)
}

// TestDeadRedisCostsMilliseconds checks that the short timeouts hold for a Redis that accepts
// connections but never answers (like one stopped with SIGSTOP) and for one that is gone.
func TestDeadRedisCostsMilliseconds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	for _, url := range []string{"redis://" + ln.Addr().String(), "redis://127.0.0.1:1"} {
		c, err := rediscache.Open(url, "")
		require.NoError(t, err)
		start := time.Now()
		assert.Error(t, c.Ping(context.Background()))
		assert.Less(t, time.Since(start), 2*time.Second, url)
		t.Logf("%s: ping failed after %v", url, time.Since(start))
		_ = c.Close()
	}
}
