// Package jwtauth issues and checks capmatch's access tokens with golang-jwt v5, following
// RFC 8725: one pinned algorithm (HS256), a key id so keys can rotate, and required exp, iss
// and aud claims.
package jwtauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/golang-jwt/jwt/v5"
)

// Issuer and Audience are the iss and aud of every capmatch access token.
const (
	Issuer   = "capmatch"
	Audience = "capmatch-api"
)

// Leeway tolerates small clock differences between API replicas.
const Leeway = 30 * time.Second

// Claims are the access token's claims.
type Claims struct {
	Role    models.Role `json:"role"`
	Org     string      `json:"org"`
	Country string      `json:"country,omitempty"`
	Family  string      `json:"fam"`
	// MustChangePassword (pwc) marks a token of an account that must choose its own password
	// before anything else.
	MustChangePassword bool `json:"pwc,omitempty"`
	// IssuedNano (iat_ns) is the issue time in nanoseconds: iat has whole seconds, too coarse to
	// tell a session opened just before a revocation (a password change) from one opened just
	// after it. Parse uses it when it falls within iat's second.
	IssuedNano int64 `json:"iat_ns,omitempty"`
	jwt.RegisteredClaims
}

// Keyring holds the signing key and the keys still accepted for verification, by key id, so
// that a secret can rotate without signing everyone out: sign with the new one, keep the old
// one until its tokens expire.
type Keyring struct {
	current string
	keys    map[string][]byte
}

// KeyID derives a key's id from the key itself (a short hash), so replicas agree without
// configuration.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:6])
}

// NewKeyring signs with current and also verifies tokens signed with any of previous.
func NewKeyring(current []byte, previous ...[]byte) (*Keyring, error) {
	if len(current) < 32 {
		return nil, fmt.Errorf("jwtauth: signing key must be at least 32 bytes")
	}
	k := &Keyring{current: KeyID(current), keys: map[string][]byte{}}
	k.keys[k.current] = current
	for _, p := range previous {
		k.keys[KeyID(p)] = p
	}
	return k, nil
}

// Tokens issues and parses access tokens.
type Tokens struct {
	ring *Keyring
	now  func() time.Time
}

// New returns a token issuer and parser. now is the clock (time.Now outside tests).
func New(ring *Keyring, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{ring: ring, now: now}
}

// Issue signs an access token for the actor, valid for ttl. It returns the token, its jti and
// its expiry.
func (t *Tokens) Issue(a models.Actor, ttl time.Duration) (token, jti string, exp time.Time, err error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", "", time.Time{}, fmt.Errorf("jti: %w", err)
	}
	jti = hex.EncodeToString(b)
	precise := t.now().UTC()
	now := precise.Truncate(time.Second)
	exp = now.Add(ttl)
	c := Claims{
		Role: a.Role, Org: a.OrgID, Country: a.Country, Family: a.FamilyID, MustChangePassword: a.MustChangePassword,
		IssuedNano: precise.UnixNano(),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Subject: a.UserID, Audience: jwt.ClaimStrings{Audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp), ID: jti,
		},
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = t.ring.current
	token, err = tok.SignedString(t.ring.keys[t.ring.current])
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("sign: %w", err)
	}
	return token, jti, exp, nil
}

// Parse verifies a token and returns the actor it speaks for and when it was issued. Anything wrong
// (another algorithm, alg none, an unknown kid or wrong key, expired, not yet valid, wrong iss
// or aud, missing claims) is models.ErrUnauthorized.
func (t *Tokens) Parse(token string) (models.Actor, time.Time, time.Time, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		key, ok := t.ring.keys[kid]
		if !ok {
			return nil, errors.New("unknown key id")
		}
		return key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return models.Actor{}, time.Time{}, time.Time{}, models.Errorf(models.ErrUnauthorized, "invalid or expired token")
	}
	if c.Subject == "" || c.ID == "" || !c.Role.Valid() || c.NotBefore == nil || c.IssuedAt == nil || c.ExpiresAt == nil {
		return models.Actor{}, time.Time{}, time.Time{}, models.Errorf(models.ErrUnauthorized, "invalid token claims")
	}
	return models.Actor{UserID: c.Subject, Role: c.Role, OrgID: c.Org, Country: c.Country, TokenID: c.ID, FamilyID: c.Family,
			MustChangePassword: c.MustChangePassword},
		IssuedAt(c.IssuedAt.Time, c.IssuedNano), c.ExpiresAt.UTC(), nil
}

// IssuedAt is a token's issue time: iat_ns when it lies within iat's second (so a token cannot
// claim a time its signed iat contradicts), else iat.
func IssuedAt(iat time.Time, nano int64) time.Time {
	iat = iat.UTC()
	if nano != 0 {
		if precise := time.Unix(0, nano).UTC(); precise.Truncate(time.Second).Equal(iat) {
			return precise
		}
	}
	return iat
}

var _ models.AccessTokens = (*Tokens)(nil)
