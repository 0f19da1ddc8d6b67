package jwtauth

import (
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	key   = []byte(strings.Repeat("k", 32))
	other = []byte(strings.Repeat("o", 32))
	actor = models.Actor{UserID: "u1", Role: models.RoleMinistry, OrgID: "org-sn", Country: "SN", FamilyID: "fam1"}
)

func tokens(t *testing.T, now time.Time, k []byte, prev ...[]byte) *Tokens {
	t.Helper()
	ring, err := NewKeyring(k, prev...)
	require.NoError(t, err)
	return New(ring, func() time.Time { return now })
}

func TestIssueAndParse(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tk := tokens(t, now, key)
	tok, jti, exp, err := tk.Issue(actor, models.AccessTokenTTL)
	require.NoError(t, err)
	assert.Equal(t, now.Add(15*time.Minute), exp)
	got, iat, _, err := tk.Parse(tok)
	require.NoError(t, err)
	assert.Equal(t, now, iat)
	want := actor
	want.TokenID = jti
	assert.Equal(t, want, got)
}

// sign builds a token with arbitrary header and claims, as an attacker would.
func sign(t *testing.T, m jwt.SigningMethod, k any, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(k)
	require.NoError(t, err)
	return s
}

func TestTokenAttacksAreRejected(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tk := tokens(t, now, key)
	kid := KeyID(key)
	valid := func() Claims {
		return Claims{Role: models.RoleAdmin, Org: "o", Family: "f", RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Subject: "u", Audience: jwt.ClaimStrings{Audience}, ID: "j",
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}}
	}
	mod := func(f func(c *Claims)) Claims { c := valid(); f(&c); return c }

	good := sign(t, jwt.SigningMethodHS256, key, kid, valid())
	_, _, _, err := tk.Parse(good)
	require.NoError(t, err, "the control token is valid")

	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, valid())
	cases := map[string]string{
		"alg none":         none,
		"alg none, no sig": strings.TrimSuffix(none, "."),
		"swapped to HS512": sign(t, jwt.SigningMethodHS512, key, kid, valid()),
		"swapped to HS384": sign(t, jwt.SigningMethodHS384, key, kid, valid()),
		"wrong key":        sign(t, jwt.SigningMethodHS256, other, kid, valid()),
		"unknown kid":      sign(t, jwt.SigningMethodHS256, key, "nope", valid()),
		"no kid":           sign(t, jwt.SigningMethodHS256, key, "", valid()),
		"expired":          sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) })),
		"no exp":           sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.ExpiresAt = nil })),
		"not yet valid":    sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(5 * time.Minute)) })),
		"issued in future": sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(5 * time.Minute)) })),
		"wrong issuer":     sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.Issuer = "evil" })),
		"no issuer":        sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.Issuer = "" })),
		"wrong audience":   sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.Audience = jwt.ClaimStrings{"other"} })),
		"no audience":      sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.Audience = nil })),
		"unknown role":     sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.Role = "root" })),
		"no subject":       sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.Subject = "" })),
		"no iat":           sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.IssuedAt = nil })),
		"no jti":           sign(t, jwt.SigningMethodHS256, key, kid, mod(func(c *Claims) { c.ID = "" })),
		"garbage":          "not.a.token",
		"empty":            "",
		"tampered payload": good[:strings.Index(good, ".")+1] + "eyJyb2xlIjoiYWRtaW4ifQ" + good[strings.LastIndex(good, "."):],
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, _, err := tk.Parse(tok)
			require.Error(t, err)
			assert.ErrorIs(t, err, models.ErrUnauthorized)
		})
	}
}

func TestLeewayAndRotation(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	old := tokens(t, now, other)
	tok, _, _, err := old.Issue(actor, time.Minute)
	require.NoError(t, err)

	// 20 s after expiry is within the leeway; 40 s is not.
	_, _, _, err = tokens(t, now.Add(80*time.Second), other).Parse(tok)
	assert.NoError(t, err)
	_, _, _, err = tokens(t, now.Add(100*time.Second), other).Parse(tok)
	assert.ErrorIs(t, err, models.ErrUnauthorized)

	// After rotation the old key still verifies, new tokens use the new key.
	rotated := tokens(t, now, key, other)
	_, _, _, err = rotated.Parse(tok)
	assert.NoError(t, err)
	newTok, _, _, err := rotated.Issue(actor, time.Minute)
	require.NoError(t, err)
	_, _, _, err = old.Parse(newTok)
	assert.ErrorIs(t, err, models.ErrUnauthorized, "the old ring does not know the new key")

	_, err = NewKeyring([]byte("short"))
	assert.Error(t, err)
}
