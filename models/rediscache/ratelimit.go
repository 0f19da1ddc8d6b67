package rediscache

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// fixedWindow increments a counter and sets its expiry on first use, atomically, returning
// the count and the milliseconds left in the window.
var fixedWindow = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`)

// RateLimiter is a fixed-window counter in Redis, shared by every API replica. It implements
// models.RateLimiter.
type RateLimiter struct {
	c *Client
}

// NewRateLimiter returns a limiter on the client's Redis.
func NewRateLimiter(c *Client) *RateLimiter { return &RateLimiter{c: c} }

// Allow implements models.RateLimiter. An error means Redis did not answer; the caller
// decides how to degrade.
func (r *RateLimiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	res, err := fixedWindow.Run(ctx, r.c.rdb, []string{r.c.Key("rl", key)}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	n, ttl := res[0], time.Duration(res[1])*time.Millisecond
	if n > int64(limit) {
		return false, ttl, nil
	}
	return true, 0, nil
}
