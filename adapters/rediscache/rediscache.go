// Package rediscache is capmatch's Redis adapter: it owns the go-redis client and everything
// capmatch keeps in Redis (ranking cache, change events, rate-limit counters, revocations).
// Redis is a cache and a message bus here, never the source of truth, so every call is bounded
// by short timeouts: a dead Redis must cost milliseconds, and callers fall back to the store or
// the in-memory model.
package rediscache

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timeouts bound every Redis call. They are short on purpose: a ranking computed in memory
// is cheaper than waiting on a sick Redis.
const (
	DialTimeout = 250 * time.Millisecond
	IOTimeout   = 150 * time.Millisecond
)

// Client wraps a go-redis client configured for capmatch. The client is a
// redis.UniversalClient so that standalone, Sentinel and Cluster deployments share one code
// path: everything here uses only what all three support.
type Client struct {
	rdb    redis.UniversalClient
	prefix string
	mode   Mode
}

// Open parses REDIS_URL (ParseURL: standalone, Sentinel or Cluster) and returns a client
// with short timeouts. Every key and channel starts with prefix, so that several deployments
// (or tests) can share one Redis. It does not fail when Redis is down: readiness reports that,
// and callers degrade.
func Open(url, prefix string) (*Client, error) {
	cfg, err := ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	return OpenConfig(cfg, prefix), nil
}

// OpenConfig returns a client for a parsed REDIS_URL with capmatch's timeouts and retries,
// the same in every mode (see limits).
func OpenConfig(cfg *Config, prefix string) *Client {
	var rdb redis.UniversalClient
	switch {
	case cfg.failover != nil:
		o := *cfg.failover
		limits(&o.DialTimeout, &o.DialerRetries, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.ContextTimeoutEnabled)
		rdb = redis.NewFailoverClient(&o)
	case cfg.cluster != nil:
		o := *cfg.cluster
		limits(&o.DialTimeout, &o.DialerRetries, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.ContextTimeoutEnabled)
		cc := redis.NewClusterClient(&o)
		cc.OnNewNode(func(n *redis.Client) { n.AddHook(reloadOnDialError{cc}) })
		rdb = cc
	default:
		o := *cfg.standalone
		limits(&o.DialTimeout, &o.DialerRetries, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.ContextTimeoutEnabled)
		rdb = redis.NewClient(&o)
	}
	return &Client{rdb: rdb, prefix: prefix, mode: cfg.Mode}
}

// limits sets capmatch's timeouts and retries on go-redis options, whichever mode's they are.
func limits(dial *time.Duration, dialerRetries *int, read, write, pool *time.Duration, retries *int, ctxTimeout *bool) {
	*dial = DialTimeout
	// go-redis retries a failed dial 5 times, 100 ms apart, by default: a dead Redis then cost
	// about a second per command (a blackholed one 5 × DialTimeout), not DialTimeout. One
	// attempt per command; MaxRetries below still allows one more.
	*dialerRetries = 1
	*read, *write, *pool = IOTimeout, IOTimeout, IOTimeout
	*retries = 1
	*ctxTimeout = true
}

// Mode is how this client reaches Redis (standalone, Sentinel or Cluster).
func (c *Client) Mode() Mode { return c.mode }

// Key prefixes a key or channel name with the deployment's namespace.
func (c *Client) Key(parts ...string) string {
	k := c.prefix
	for i, p := range parts {
		if i > 0 {
			k += ":"
		}
		k += p
	}
	return k
}

// Redis exposes the go-redis client to the other parts of this adapter and to tests. It is
// the universal interface, whatever the deployment's mode, so callers cannot depend on one.
func (c *Client) Redis() redis.UniversalClient { return c.rdb }

// Ping checks that Redis answers; readiness probes call it.
func (c *Client) Ping(ctx context.Context) error {
	return c.rdb.Ping(ctx).Err()
}

// Close closes the connection pool.
func (c *Client) Close() error {
	return c.rdb.Close()
}
