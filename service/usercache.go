package service

import (
	"context"
	"sync"
	"time"

	"github.com/capmatch/capmatch/models"
)

// userCacheTTL bounds how long an account read stays in the user cache: the safety net for a
// change that no revocation announced (an operator's edit of the store).
const userCacheTTL = 5 * time.Second

// maxCachedUsers bounds the user cache; a full cache is emptied and fills again with the
// accounts in use.
const maxCachedUsers = 10_000

// userCache serves the signed-in user's own account (GET /api/v1/me) from memory: that read
// was a store round trip on every request (4.3k req/s, issue 16). It is safe because every
// change of an account is announced to every replica: a disable, a re-enable, a password change
// or reset put a user revocation (Auth.putRevocation), a change of UI language a user event
// (Auth.userChanged) that drops the entry everywhere before the writer goes on. For the former, an
// entry is served only while the account's user revocation is the one that was in force
// when the entry was read from the store (read before the store, so a change racing the read
// leaves the entry stale-marked, never fresh-marked), while the revocations copy is trusted
// (the bus is up), for at most userCacheTTL, and never for a disabled account. Access itself is
// decided before, by Auth.Authenticate: a disabled account's tokens are refused whatever this
// holds.
type userCache struct {
	users interface {
		GetUser(context.Context, string) (*models.User, error)
	}
	revocations *Revocations
	now         Clock

	mu sync.RWMutex
	m  map[string]cachedUser
	// drops counts drop calls: a read that a drop overtook (the store read before the change,
	// the drop before the entry is put) is not kept (mu guards it).
	drops uint64
}

// cachedUser is one account read, with the user revocation in force before it was read.
type cachedUser struct {
	u    models.User
	read time.Time
	rv   models.Revocation
	has  bool
}

func newUserCache(users models.UserStore, rev *Revocations, now Clock) *userCache {
	return &userCache{users: users, revocations: rev, now: now, m: map[string]cachedUser{}}
}

// get returns the account id (a copy: callers may change it), from memory when safe.
func (c *userCache) get(ctx context.Context, id string) (*models.User, error) {
	rv, has := c.revocations.lookup(models.RevokedUserKey(id))
	trusted := c.revocations.Fresh()
	now := c.now()
	if trusted {
		c.mu.RLock()
		e, ok := c.m[id]
		c.mu.RUnlock()
		if ok && !e.u.Disabled && !now.Before(e.read) && now.Sub(e.read) < userCacheTTL && e.has == has && sameRevocation(e.rv, rv) {
			u := e.u
			return &u, nil
		}
	}
	if !trusted {
		// What was kept before the bus went down is not served after it is back either.
		c.mu.Lock()
		clear(c.m)
		c.mu.Unlock()
	}
	c.mu.RLock()
	drops := c.drops
	c.mu.RUnlock()
	u, err := c.users.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if trusted {
		c.mu.Lock()
		if c.drops == drops {
			if len(c.m) >= maxCachedUsers {
				clear(c.m)
			}
			c.m[id] = cachedUser{u: *u, read: now, rv: rv, has: has}
		}
		c.mu.Unlock()
	}
	return u, nil
}

// drop forgets an account this replica just changed, or another replica changed without a
// revocation (Auth.userChanged).
func (c *userCache) drop(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.drops++
	c.mu.Unlock()
}

func sameRevocation(a, b models.Revocation) bool {
	return a.ID == b.ID && a.Reason == b.Reason && a.At.Equal(b.At) && a.ExpiresAt.Equal(b.ExpiresAt) && a.Except == b.Except
}
