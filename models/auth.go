package models

import "time"

// Token lifetimes, short for access (a stolen one is worth little) and long for refresh (so
// officials on poor connections are not signed out every day).
const (
	AccessTokenTTL  = 15 * time.Minute
	RefreshTokenTTL = 30 * 24 * time.Hour
)

// RefreshToken is a stored refresh token. Only its SHA-256 hash is kept: a leak of the
// collection does not leak usable tokens.
type RefreshToken struct {
	// Hash is the hex SHA-256 of the opaque token, and the document id.
	Hash      string     `bson:"_id"`
	FamilyID  string     `bson:"family_id"`
	UserID    string     `bson:"user_id"`
	CreatedAt time.Time  `bson:"created_at"`
	ExpiresAt time.Time  `bson:"expires_at"`
	RetiredAt *time.Time `bson:"retired_at"`
}

// Revocation records that an access token (by jti) or a whole refresh-token family stopped
// working. Revocations are durable in the store and fanned out over the cache.
type Revocation struct {
	// ID is "jti:<jti>" or "fam:<family id>", so that a check is a lookup by _id.
	ID        string    `json:"id" bson:"_id"`
	Reason    string    `json:"reason" bson:"reason"`
	At        time.Time `json:"at" bson:"at"`
	ExpiresAt time.Time `json:"expires_at" bson:"expires_at"`
	// Except is a refresh family a user's revocation spares: the session that changed the
	// password goes on while every other one ends.
	Except string `json:"except,omitempty" bson:"except,omitempty"`
}

// PasswordReset is a one-time link a coordinator or admin issued for a user to set a new
// password without signing in. There is at most one per user (a new one replaces it), stored
// under the user's id with only the SHA-256 of its secret. It works once, until ExpiresAt.
type PasswordReset struct {
	UserID    string     `bson:"_id"`
	Hash      string     `bson:"hash"`
	CreatedBy string     `bson:"created_by"`
	CreatedAt time.Time  `bson:"created_at"`
	ExpiresAt time.Time  `bson:"expires_at"`
	UsedAt    *time.Time `bson:"used_at"`
}

// PasswordResetTTL is how long a reset link works: long enough for a coordinator to pass it on
// and for an official in another time zone to open it the same day, short enough that a
// forgotten link in a mailbox soon stops working.
const PasswordResetTTL = 24 * time.Hour

// RevokedTokenKey is the revocation id of an access token.
func RevokedTokenKey(jti string) string { return "jti:" + jti }

// RevokedFamilyKey is the revocation id of a refresh-token family.
func RevokedFamilyKey(family string) string { return "fam:" + family }

// AuditEntry is one line of the append-only audit trail: who did what to which object, when,
// and in which request.
type AuditEntry struct {
	ID         string    `json:"id" bson:"_id"`
	At         time.Time `json:"at" bson:"at"`
	ActorID    string    `json:"actor_id" bson:"actor_id"`
	ActorRole  Role      `json:"actor_role" bson:"actor_role"`
	ActorOrgID string    `json:"actor_organization_id" bson:"actor_org_id"`
	Action     string    `json:"action" bson:"action"`
	ObjectType string    `json:"object_type" bson:"object_type"`
	ObjectID   string    `json:"object_id" bson:"object_id"`
	Changed    []string  `json:"changed,omitempty" bson:"changed,omitempty"`
	RequestID  string    `json:"request_id,omitempty" bson:"request_id,omitempty"`
	// CorrelationID is the client's own id for the request, when it sent a valid one: a hint
	// for matching the client's logs, never the request id (which the server draws).
	CorrelationID string `json:"correlation_id,omitempty" bson:"correlation_id,omitempty"`
}

// AccessTokens issues and verifies signed access tokens (a JWT adapter implements it).
type AccessTokens interface {
	Issue(a Actor, ttl time.Duration) (token, jti string, exp time.Time, err error)
	// Parse returns the actor, the token's issue time (revocations of a user apply to tokens
	// issued until then) and its expiry; ErrUnauthorized for any bad token.
	Parse(token string) (a Actor, issuedAt, expiresAt time.Time, err error)
}

// TokenPair is what login and refresh return.
type TokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// RevokedUserKey is the revocation id that ends every session of a user issued before it.
func RevokedUserKey(userID string) string { return "usr:" + userID }
