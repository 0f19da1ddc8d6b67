package rediscache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/redis/go-redis/v9"
)

// failScript counts one failure and, past the free ones, blocks the key, atomically.
// KEYS[1] is the failure counter, KEYS[2] the block, KEYS[3] the mark of this one failure;
// ARGV are the models.Backoff in milliseconds: memory, free, base, max. The delay is
// models.Backoff.Delay's: base doubled for every failure past the first blocked one, at most
// max (TestFailScriptMatchesBackoff checks they agree). A block already longer than the new
// delay is kept. It returns the failure count and the block's remaining milliseconds.
//
// The mark makes the script idempotent: go-redis sends a command again when its answer comes
// later than IOTimeout (MaxRetries), and Redis may have run it the first time; a failure whose
// mark exists is not counted again (TestFailCountsOnceWhenTheAnswerIsLate).
var failScript = redis.NewScript(`
if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', 60000) then
  local b = redis.call('PTTL', KEYS[2])
  if b < 0 then b = 0 end
  return {tonumber(redis.call('GET', KEYS[1]) or '0'), b}
end
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local free, base, max = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local d = 0
if n > free and base > 0 then
  local e = n - free - 1
  if e > 40 then e = 40 end
  d = base * (2 ^ e)
  if d > max then d = max end
  d = math.floor(d)
  local cur = redis.call('PTTL', KEYS[2])
  if cur >= d then
    d = cur
  else
    redis.call('SET', KEYS[2], '1', 'PX', d)
  end
end
return {n, d}
`)

// fixedWindow increments a request counter and sets its expiry on first use, atomically,
// returning the count and the milliseconds left in the window. KEYS[1] is the counter, KEYS[2]
// the mark of this one request: like failScript, a request whose mark exists (go-redis sent
// the script again after a late answer) is not counted again
// (TestAllowCountsOnceWhenTheAnswerIsLate).
var fixedWindow = redis.NewScript(`
local n
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', 60000) then
  n = redis.call('INCR', KEYS[1])
else
  n = tonumber(redis.call('GET', KEYS[1]) or '1')
end
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`)

// RateLimiter keeps failure counters and back-off blocks (models.RateLimiter) and request
// counters in fixed windows (models.RequestLimiter) in Redis, shared by every API replica.
// Every key it writes has a lifetime, so nothing it keeps outlives its purpose.
type RateLimiter struct {
	c *Client
}

// NewRateLimiter returns a limiter on the client's Redis.
func NewRateLimiter(c *Client) *RateLimiter { return &RateLimiter{c: c} }

// tag is a limiter key as a Redis Cluster hash tag. A script may only touch keys of one hash
// slot on a Cluster, and failScript and fixedWindow touch a key's counter, block and mark
// together: every Redis key derived from one limiter key carries the same {tag}, so they hash
// to one slot (the part between the first { and the next } decides; a } inside key cuts the tag
// short, the same way for all of them). Different limiter keys spread over the cluster.
func tag(key string) string {
	if key == "" {
		key = "_" // {} is no hash tag: Redis would hash each whole key
	}
	return "{" + key + "}"
}

func (r *RateLimiter) counterKey(key string) string { return r.c.Key("rl", tag(key), "n") }
func (r *RateLimiter) blockKey(key string) string   { return r.c.Key("rl", tag(key), "b") }
func (r *RateLimiter) windowKey(key string) string  { return r.c.Key("rl", tag(key), "w") }

// Allow implements models.RequestLimiter. Each call counts once, however often go-redis sends
// it. An error means Redis did not answer; the caller decides how to degrade.
func (r *RateLimiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	var once [12]byte
	if _, err := rand.Read(once[:]); err != nil {
		return false, 0, fmt.Errorf("request limit: %w", err)
	}
	mark := r.c.Key("rl", tag(key), "r", hex.EncodeToString(once[:]))
	res, err := fixedWindow.Run(ctx, r.c.rdb, []string{r.windowKey(key), mark}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("request limit: %w", err)
	}
	n, ttl := res[0], time.Duration(res[1])*time.Millisecond
	if n > int64(limit) {
		return false, ttl, nil
	}
	return true, 0, nil
}

// Wait implements models.RateLimiter: the longest remaining block of keys. The blocks of
// different keys live in different hash slots on a Cluster, so they are read with one pipeline
// of PTTLs (go-redis splits it by node), not a script. An error means Redis did not answer;
// the caller decides how to degrade.
func (r *RateLimiter) Wait(ctx context.Context, keys ...string) (time.Duration, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	cmds := make([]*redis.DurationCmd, len(keys))
	_, err := r.c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.PTTL(ctx, r.blockKey(k))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	var longest time.Duration
	for _, c := range cmds {
		longest = max(longest, c.Val()) // -1 and -2 (no expiry, no key) count as none
	}
	return longest, nil
}

// Fail implements models.RateLimiter. Each call counts once, however often go-redis sends it.
func (r *RateLimiter) Fail(ctx context.Context, key string, b models.Backoff) (int, time.Duration, error) {
	var once [12]byte
	if _, err := rand.Read(once[:]); err != nil {
		return 0, 0, fmt.Errorf("rate limit: %w", err)
	}
	mark := r.c.Key("rl", tag(key), "f", hex.EncodeToString(once[:]))
	res, err := failScript.Run(ctx, r.c.rdb, []string{r.counterKey(key), r.blockKey(key), mark},
		max(b.Memory.Milliseconds(), 1), b.Free, b.Base.Milliseconds(), b.Max.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("rate limit: %w", err)
	}
	return int(res[0]), time.Duration(res[1]) * time.Millisecond, nil
}

// Clear implements models.RateLimiter. Each key's counter and block share a hash slot; the
// keys do not, so each gets its own DEL in one pipeline (a multi-key DEL across slots is
// refused on a Cluster).
func (r *RateLimiter) Clear(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := r.c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, r.counterKey(k), r.blockKey(k))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	return nil
}
