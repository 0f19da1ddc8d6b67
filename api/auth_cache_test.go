package api

import (
	"strconv"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/models/jwtauth"
	"github.com/capmatch/capmatch/models/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The verified-token cache must never accept what verifying the token again would refuse:
// an expired token (by the service's clock or the wall clock), or a token another
// application verified. Revocation is checked on every request whatever the cache holds;
// TestLogoutAcrossReplicas, TestDisablingEndsSessionsAtOnce and TestRevocationWithRedisDown
// use each token before revoking it, so they cover revocation of a cached token.
func TestVerifiedTokenCache(t *testing.T) {
	c := &verifiedTokens{m: map[string]verifiedToken{}}
	appA, appB := &service.App{}, &service.App{}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	actor := models.Actor{UserID: "u1", Role: models.RoleMinistry, Country: "SN"}
	c.put("tok", verifiedToken{actor: actor, issued: now, expires: now.Add(15 * time.Minute), app: appA})

	got, ok := c.get("tok", appA, now.Add(time.Minute), now.Add(time.Minute))
	require.True(t, ok)
	assert.Equal(t, actor, got.actor)
	assert.Equal(t, now, got.issued)

	_, ok = c.get("tok", appB, now, now)
	assert.False(t, ok, "another application's keys did not verify this token")
	_, ok = c.get("tok", appA, now.Add(15*time.Minute), now)
	assert.False(t, ok, "expired by the service's clock")
	_, ok = c.get("tok", appA, now, now.Add(15*time.Minute))
	assert.False(t, ok, "expired by the wall clock")
	_, ok = c.get("other", appA, now, now)
	assert.False(t, ok)

	for i := range maxVerifiedTokens + 5 {
		c.put("t"+strconv.Itoa(i), verifiedToken{expires: now.Add(time.Hour), app: appA})
	}
	assert.LessOrEqual(t, len(c.m), maxVerifiedTokens, "bounded")
}

func TestTokenTimesReadsTheSignedClaims(t *testing.T) {
	ring, err := jwtauth.NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	issued := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	tok, _, exp, err := jwtauth.New(ring, func() time.Time { return issued }).Issue(
		models.Actor{UserID: "u1", Role: models.RoleDonor, OrgID: "o1", FamilyID: "f1"}, 15*time.Minute)
	require.NoError(t, err)

	iat, gotExp, ok := tokenTimes(tok)
	require.True(t, ok)
	assert.Equal(t, issued, iat, "the issue time revocations of a user compare with")
	assert.Equal(t, exp.UTC(), gotExp)

	for _, bad := range []string{"", "a.b", "a.!!!.c", "a.e30.c"} { // e30 is {}
		_, _, ok := tokenTimes(bad)
		assert.False(t, ok, bad)
	}
}

// TestCachedTokensKeepTheirActor alternates two users' tokens: Fiber reuses request buffers,
// so a cache keyed by the header's bytes without copying them would answer one user with the
// other's identity.
func TestCachedTokensKeepTheirActor(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	accounts := []account{f.ministry, f.ministry2, f.donor, f.donor2, f.coord}
	for i := range 200 {
		acc := accounts[(i*7)%len(accounts)]
		r := n.call("GET", "/api/v1/me", acc.Token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		require.Equal(t, acc.Email, r.json(t)["email"], "request %d", i)
		n.call("GET", "/api/v1/needs?limit=1", accounts[i%len(accounts)].Token, nil)
	}
}
