package service

import (
	"sync"
	"time"

	"github.com/capmatch/capmatch/models"
)

// maxVerifiedTokens bounds the verified-token cache (about 600 bytes an entry).
const maxVerifiedTokens = 10_000

// tokenCache is the models.AccessTokens port with the signature check remembered: the first
// Parse of a token verifies it in full (signature, algorithm, issuer, audience, times) through
// the adapter it wraps; later ones, while the token is unexpired, answer from memory.
// Verifying an HS256 token and decoding its claims was the largest CPU cost of a cached
// ranking read (BENCHMARKS.md). Revocations are not cached here: Auth.Authenticate checks them
// on every request, so a revoked token is refused at once whatever this holds.
type tokenCache struct {
	next models.AccessTokens
	now  Clock

	mu sync.RWMutex
	m  map[string]verifiedToken
}

// verifiedToken is what verifying a token gave.
type verifiedToken struct {
	actor           models.Actor
	issued, expires time.Time
}

func newTokenCache(next models.AccessTokens, now Clock) *tokenCache {
	return &tokenCache{next: next, now: now, m: map[string]verifiedToken{}}
}

// Issue implements models.AccessTokens.
func (c *tokenCache) Issue(a models.Actor, ttl time.Duration) (string, string, time.Time, error) {
	return c.next.Issue(a, ttl)
}

// Parse implements models.AccessTokens. A hit needs both the service's clock and the wall
// clock to agree the token is still valid, so the cache never accepts a token that verifying
// it again would refuse.
func (c *tokenCache) Parse(token string) (models.Actor, time.Time, time.Time, error) {
	if v, ok := c.get(token, c.now(), time.Now()); ok {
		return v.actor, v.issued, v.expires, nil
	}
	a, issued, expires, err := c.next.Parse(token)
	if err != nil {
		return a, issued, expires, err
	}
	// The token may point into a request buffer that the next request on the connection
	// overwrites: the key must be a copy.
	c.put(string([]byte(token)), verifiedToken{actor: a, issued: issued, expires: expires})
	return a, issued, expires, nil
}

func (c *tokenCache) get(token string, now, wall time.Time) (verifiedToken, bool) {
	c.mu.RLock()
	e, ok := c.m[token]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) || !wall.Before(e.expires) {
		return verifiedToken{}, false
	}
	return e, true
}

// put remembers a verified token; a full cache is emptied first (tokens live 15 minutes, so
// the ones in use come back at once), which keeps it bounded without bookkeeping.
func (c *tokenCache) put(token string, e verifiedToken) {
	c.mu.Lock()
	if len(c.m) >= maxVerifiedTokens {
		clear(c.m)
	}
	c.m[token] = e
	c.mu.Unlock()
}
