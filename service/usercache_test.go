package service

import (
	"context"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingUsers is a user store that counts reads.
type countingUsers struct {
	reads int
	u     models.User
}

func (c *countingUsers) GetUser(_ context.Context, id string) (*models.User, error) {
	c.reads++
	if id != c.u.ID {
		return nil, models.Errorf(models.ErrNotFound, "user not found")
	}
	u := c.u
	return &u, nil
}

// dropDuring is a user store whose read is overtaken by a drop.
type dropDuring struct {
	*countingUsers
	drop func()
}

func (d *dropDuring) GetUser(ctx context.Context, id string) (*models.User, error) {
	u, err := d.countingUsers.GetUser(ctx, id)
	d.drop()
	return u, err
}

// TestUserCache: GET /me's account is read from the store once and then served from memory,
// but read again at once after any change of the account this replica makes (drop) or hears
// of (a user revocation: disable, re-enable, password change or reset), after userCacheTTL,
// whenever the revocations copy is not trusted (bus down), and every time for a disabled
// account; what it serves is a copy.
func TestUserCache(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := &countingUsers{u: models.User{ID: "u1", Email: "a@example.org", Version: 1}}
	rev := NewRevocations(nil, clock)
	rev.SetFresh(true)
	c := &userCache{users: store, revocations: rev, now: clock, m: map[string]cachedUser{}}
	read := func(wantReads int, msg string) *models.User {
		t.Helper()
		u, err := c.get(ctx, "u1")
		require.NoError(t, err)
		assert.Equal(t, wantReads, store.reads, msg)
		return u
	}
	read(1, "first read from the store")
	u := read(1, "then from memory")
	u.Email = "changed@example.org"
	assert.Equal(t, "a@example.org", read(1, "a copy").Email)

	store.u.Version = 2
	rev.Add(models.Revocation{ID: models.RevokedUserKey("u1"), Reason: "password changed", At: now, ExpiresAt: now.Add(time.Hour)})
	assert.EqualValues(t, 2, read(2, "a user revocation (heard from another replica) makes it read again").Version)
	read(2, "cached again")
	rev.Add(models.Revocation{ID: models.RevokedUserKey("u2"), Reason: "password changed", At: now, ExpiresAt: now.Add(time.Hour)})
	read(2, "another user's revocation changes nothing")

	c.drop("u1")
	read(3, "a change made here drops it")
	now = now.Add(userCacheTTL - time.Millisecond)
	read(3, "within the TTL")
	now = now.Add(time.Millisecond)
	read(4, "read again after the TTL")

	rev.SetFresh(false)
	read(5, "not served from memory while the bus is down")
	read(6, "nor kept")
	rev.SetFresh(true)
	read(7, "the bus is back: read, then kept")
	read(7, "kept")

	store.u.Disabled = true
	c.drop("u1")
	read(8, "disabled")
	read(9, "a disabled account is never served from memory")

	// A drop that overtakes a read (the store read before the change, the drop before the
	// entry is put) leaves nothing kept.
	store.u.Disabled = false
	racing := &dropDuring{countingUsers: store, drop: func() { c.drop("u1") }}
	c.users = racing
	_, err := c.get(ctx, "u1")
	require.NoError(t, err)
	c.users = store
	read(11, "the overtaken read was not kept")
	read(11, "the next one is")

	_, err = c.get(ctx, "nobody")
	assert.ErrorIs(t, err, models.ErrNotFound)
}
