package rediscache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Rankings stores computed ranking lists in Redis, shared by every API replica. Entries carry
// their own freshness stamp; readers decide whether an entry is current.
type Rankings struct {
	c   *Client
	ttl time.Duration
}

// NewRankings returns the ranking cache; entries expire after ttl so an abandoned key does not
// live for ever.
func NewRankings(c *Client, ttl time.Duration) *Rankings { return &Rankings{c: c, ttl: ttl} }

// Get returns a cached entry, or nil when there is none.
func (r *Rankings) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := r.c.rdb.Get(ctx, r.c.Key("rank", key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rankings get: %w", err)
	}
	return b, nil
}

// Set stores entries in one pipelined round trip.
func (r *Rankings) Set(ctx context.Context, entries map[string][]byte) error {
	if len(entries) == 0 {
		return nil
	}
	_, err := r.c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for k, v := range entries {
			p.Set(ctx, r.c.Key("rank", k), v, r.ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rankings set: %w", err)
	}
	return nil
}
