package models

import (
	"context"
	"time"
)

// OrgStore keeps organizations.
type OrgStore interface {
	CreateOrg(ctx context.Context, o *Organization) error
	GetOrg(ctx context.Context, id string) (*Organization, error)
	ListOrgs(ctx context.Context) ([]*Organization, error)
}

// UserStore keeps accounts. E-mail addresses are unique case-insensitively (User.EmailKey).
type UserStore interface {
	// CreateUser stores a new user; ErrConflict when the e-mail is taken.
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByEmail finds a user by lower-cased e-mail; ErrNotFound when none.
	GetUserByEmail(ctx context.Context, emailKey string) (*User, error)
	ListUsers(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int64, error)
	// SetUserDisabled flips the disabled flag and bumps the version.
	SetUserDisabled(ctx context.Context, id string, disabled bool, at time.Time) (*User, error)
}

// TokenStore keeps refresh tokens and revocations.
type TokenStore interface {
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// RetireRefreshToken marks an active token retired in one conditional update and returns
	// it. ErrConflict when it was already retired (a reuse); ErrNotFound when it never existed.
	RetireRefreshToken(ctx context.Context, hash string, at time.Time) (*RefreshToken, error)
	// Revoke records a revocation; recording one that exists is not an error.
	Revoke(ctx context.Context, r Revocation) error
	// GetRevocation looks one revocation up by id; ErrNotFound when none.
	GetRevocation(ctx context.Context, id string) (*Revocation, error)
	// ListRevocations returns revocations that have not expired at now.
	ListRevocations(ctx context.Context, now time.Time) ([]Revocation, error)
}

// AuditStore appends to and reads the audit trail.
type AuditStore interface {
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns entries about one object (all when objectID is empty), newest first.
	ListAudit(ctx context.Context, objectID string, limit int) ([]*AuditEntry, error)
}

// SettingStore keeps small named settings (the generated JWT secret, matching weights), each
// one document created at most once.
type SettingStore interface {
	// GetOrCreateSetting returns the stored value of name, storing value first if none exists.
	// Concurrent callers all get the same value.
	GetOrCreateSetting(ctx context.Context, name string, value []byte) ([]byte, error)
}

// Store is everything capmatch keeps durably; the MongoDB adapter implements it.
type Store interface {
	OrgStore
	UserStore
	TokenStore
	AuditStore
	SettingStore
	Ping(ctx context.Context) error
}
