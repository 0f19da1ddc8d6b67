package service

import (
	"strconv"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingTokens is an AccessTokens adapter that counts full verifications.
type countingTokens struct {
	parses  int
	expires time.Time
}

func (c *countingTokens) Issue(models.Actor, time.Duration) (string, string, time.Time, error) {
	return "tok", "jti", c.expires, nil
}

func (c *countingTokens) Parse(token string) (models.Actor, time.Time, time.Time, error) {
	c.parses++
	if token == "bad" {
		return models.Actor{}, time.Time{}, time.Time{}, models.Errorf(models.ErrUnauthorized, "invalid")
	}
	return models.Actor{UserID: token}, c.expires.Add(-15 * time.Minute), c.expires, nil
}

// The verified-token cache must never accept what verifying the token again would refuse: an
// expired token (by the service's clock or the wall clock) or a bad one; it verifies a good
// token once, and stays bounded. Revocation is checked by Auth.Authenticate on every request
// whatever the cache holds (api TestLogoutAcrossReplicas, TestDisablingEndsSessionsAtOnce and
// TestRevocationWithRedisDown use each token before revoking it).
func TestTokenCache(t *testing.T) {
	wall := time.Now()
	now := wall
	inner := &countingTokens{expires: wall.Add(15 * time.Minute)}
	c := newTokenCache(inner, func() time.Time { return now })

	a, iat, exp, err := c.Parse("u1")
	require.NoError(t, err)
	assert.Equal(t, "u1", a.UserID)
	assert.Equal(t, inner.expires, exp)
	assert.Equal(t, inner.expires.Add(-15*time.Minute), iat)
	_, _, _, err = c.Parse("u1")
	require.NoError(t, err)
	assert.Equal(t, 1, inner.parses, "verified once")

	_, _, _, err = c.Parse("bad")
	require.Error(t, err)
	_, _, _, err = c.Parse("bad")
	require.Error(t, err)
	assert.Equal(t, 3, inner.parses, "a refused token is never remembered")

	now = wall.Add(15 * time.Minute)
	_, _, _, _ = c.Parse("u1")
	assert.Equal(t, 4, inner.parses, "expired by the service's clock: verified again")

	_, ok := c.get("u1", wall, wall.Add(15*time.Minute))
	assert.False(t, ok, "expired by the wall clock")

	for i := range maxVerifiedTokens + 5 {
		c.put("t"+strconv.Itoa(i), verifiedToken{expires: wall.Add(time.Hour)})
	}
	assert.LessOrEqual(t, len(c.m), maxVerifiedTokens, "bounded")
}
