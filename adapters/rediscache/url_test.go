package rediscache

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseURLStandalone(t *testing.T) {
	for _, u := range []string{"redis://localhost:6379/0", "rediss://user:pw@cache.example.org:6380/2", "unix:///run/redis.sock?db=1"} {
		c, err := ParseURL(u)
		require.NoError(t, err, u)
		assert.Equal(t, Standalone, c.Mode, u)
		require.NotNil(t, c.standalone, u)
	}
	c, err := ParseURL("rediss://user:pw@cache.example.org:6380/2")
	require.NoError(t, err)
	assert.Equal(t, "pw", c.standalone.Password)
	assert.Equal(t, 2, c.standalone.DB)
	assert.NotNil(t, c.standalone.TLSConfig)
}

func TestParseURLSentinel(t *testing.T) {
	c, err := ParseURL("redis+sentinel://app:s%40cret@s1.example.org,s2.example.org:26380,[::1]/cache/3?pool_size=7&sentinel_password=sp")
	require.NoError(t, err)
	assert.Equal(t, Sentinel, c.Mode)
	o := c.failover
	require.NotNil(t, o)
	assert.Equal(t, "cache", o.MasterName)
	assert.Equal(t, []string{"s1.example.org:26379", "s2.example.org:26380", "[::1]:26379"}, o.SentinelAddrs)
	assert.Equal(t, c.Addrs(), o.SentinelAddrs)
	assert.Equal(t, 3, o.DB)
	assert.Equal(t, "app", o.Username)
	assert.Equal(t, "s@cret", o.Password, "the URL's credentials are the primary's")
	assert.Equal(t, "sp", o.SentinelPassword)
	assert.Equal(t, 7, o.PoolSize)
	assert.Nil(t, o.TLSConfig)

	c, err = ParseURL("rediss+sentinel://s1/mymaster")
	require.NoError(t, err)
	assert.NotNil(t, c.failover.TLSConfig)
	assert.Equal(t, 0, c.failover.DB)
	assert.Empty(t, c.failover.Password)
	assert.Empty(t, c.failover.SentinelPassword)
}

func TestParseURLCluster(t *testing.T) {
	c, err := ParseURL("redis+cluster://:pw@10.0.0.1:7000,10.0.0.2:7001,node3?client_name=capmatch")
	require.NoError(t, err)
	assert.Equal(t, Cluster, c.Mode)
	o := c.cluster
	require.NotNil(t, o)
	assert.Equal(t, []string{"10.0.0.1:7000", "10.0.0.2:7001", "node3:6379"}, o.Addrs)
	assert.Equal(t, "pw", o.Password)
	assert.Equal(t, "capmatch", o.ClientName)
	assert.Nil(t, o.TLSConfig)
	c, err = ParseURL("rediss+cluster://node1:7000")
	require.NoError(t, err)
	assert.NotNil(t, c.cluster.TLSConfig)
}

func TestParseURLRejects(t *testing.T) {
	for u, want := range map[string]string{
		"http://localhost":                                  "unknown scheme",
		"localhost:6379":                                    "no scheme",
		"redis+sentinel://s1:26379":                         "no master name",
		"redis+sentinel://s1:26379/":                        "no master name",
		"redis+sentinel://s1:26379/m/x":                     "must be a number",
		"redis+sentinel://s1:26379/m/0/extra":               "more segments",
		"redis+sentinel://s1:26379/m?master_name=other":     "master_name",
		"redis+sentinel://s1:26379/m?replica_only=true":     "replica_only",
		"redis+sentinel://s1:26379/m?route_randomly=true":   "route_randomly",
		"redis+sentinel://s1:26379/m?dial_timeoutt=1":       "unexpected option",
		"redis+sentinel://s1:26379,,s2/m":                   "empty host",
		"redis+sentinel://s1:0/m":                           "port",
		"redis+sentinel://s1:http/m":                        "port",
		"redis+sentinel:///m":                               "no host",
		"redis+sentinel://s1#m":                             "fragment",
		"redis+sentinel://::1/m":                            "IPv6",
		"redis+cluster://n1:7000/0":                         "no database",
		"redis+cluster://n1:7000?read_only=true":            "read_only",
		"redis+cluster://n1:7000?addr=n2:7001":              "addr",
		"redis+cluster://n1:7000,n2:7001,":                  "empty host",
		"redis+cluster://n1:7000?pool_size=many":            "pool_size",
		"redis+cluster://":                                  "no host",
		"redis+cluster://a b:7000":                          "not a host",
		"redis+sentinel://s1/m?sentinel_password=%zz":       "options",
		"redis+cluster://n1:7000?route_by_latency=true":     "route_by_latency",
		"redis+sentinel://s1/m?use_disconnected_replicas=1": "use_disconnected_replicas",
	} {
		_, err := ParseURL(u)
		if assert.Error(t, err, u) {
			assert.Contains(t, err.Error(), want, u)
		}
	}
}

// TestOpenSetsLimitsInEveryMode checks that the short timeouts and single retry reach the
// go-redis client whatever the mode, even when the URL asks for others.
func TestOpenSetsLimitsInEveryMode(t *testing.T) {
	for _, u := range []string{"redis://127.0.0.1:1/0?dial_timeout=9s",
		"redis+sentinel://127.0.0.1:1/m?dial_timeout=9s&max_retries=5",
		"redis+cluster://127.0.0.1:1?read_timeout=9s&dialer_retries=4"} {
		c, err := Open(u, "")
		require.NoError(t, err, u)
		var dial, read, write, pool time.Duration
		var retries, dialer int
		var ctx bool
		switch r := c.rdb.(type) {
		case *redis.ClusterClient:
			o := r.Options()
			dial, read, write, pool, retries, dialer, ctx = o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled
		case *redis.Client:
			o := r.Options()
			dial, read, write, pool, retries, dialer, ctx = o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled
		default:
			t.Fatalf("%s: unexpected client %T", u, r)
		}
		assert.Equal(t, DialTimeout, dial, u)
		assert.Equal(t, IOTimeout, read, u)
		assert.Equal(t, IOTimeout, write, u)
		assert.Equal(t, IOTimeout, pool, u)
		assert.Equal(t, 1, retries, u)
		assert.Equal(t, 1, dialer, u)
		assert.True(t, ctx, u)
		_ = c.Close()
	}
}
