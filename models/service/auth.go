package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/models/passwords"
)

// Login limits: attempts per account and per client address in a window, counted in Redis so
// that they hold across replicas.
const (
	LoginLimitPerAccount = 10
	LoginLimitPerAddress = 30
	LoginWindow          = 5 * time.Minute
)

// Auth signs users in and out and turns bearer tokens into actors.
type Auth struct {
	Users       models.UserStore
	Tokens      models.TokenStore
	Audit       models.AuditStore
	Access      models.AccessTokens
	Limiter     models.RateLimiter
	Bus         models.Bus
	Revocations *Revocations
	Now         Clock
	Log         *slog.Logger

	fallback localLimiter
}

var errBadCredentials = models.Errorf(models.ErrUnauthorized, "wrong e-mail or password")

// EmailKey is the case-insensitive form of an e-mail address under which accounts are unique.
func EmailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Login checks credentials and returns a new token pair in a new refresh family. Unknown
// e-mails and wrong passwords get the same error after the same work.
func (s *Auth) Login(ctx context.Context, email, password, clientIP string) (*models.TokenPair, error) {
	key := EmailKey(email)
	if err := s.limit(ctx, "login:addr:"+clientIP, LoginLimitPerAddress); err != nil {
		return nil, err
	}
	if err := s.limit(ctx, "login:acct:"+key, LoginLimitPerAccount); err != nil {
		return nil, err
	}
	u, err := s.Users.GetUserByEmail(ctx, key)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	hash := ""
	if u != nil && !u.Disabled {
		hash = u.PasswordHash
	}
	if len(password) > 1024 || passwords.Verify(hash, password) != nil {
		return nil, errBadCredentials
	}
	pair, err := s.issue(ctx, u, models.NewID(s.Now()))
	if err != nil {
		return nil, err
	}
	audit(ctx, s.Audit, s.Log, s.Now(), actorOf(u, ""), "login", "user", u.ID, nil)
	return pair, nil
}

// Refresh rotates a refresh token: it retires the presented token and returns a new pair in the
// same family. Presenting a token that was already rotated is treated as theft: the whole
// family is revoked, and the legitimate holder must sign in again.
func (s *Auth) Refresh(ctx context.Context, token string) (*models.TokenPair, error) {
	invalid := models.Errorf(models.ErrUnauthorized, "invalid refresh token")
	if token == "" || len(token) > 200 {
		return nil, invalid
	}
	now := s.Now()
	old, err := s.Tokens.RetireRefreshToken(ctx, hashToken(token), now)
	switch {
	case errors.Is(err, models.ErrConflict):
		if rerr := s.revoke(ctx, models.RevokedFamilyKey(old.FamilyID), "refresh token reuse", now.Add(models.RefreshTokenTTL)); rerr != nil {
			return nil, rerr
		}
		s.Log.WarnContext(ctx, "refresh token reuse: family revoked", "family", old.FamilyID, "user_id", old.UserID)
		return nil, invalid
	case errors.Is(err, models.ErrNotFound):
		return nil, invalid
	case err != nil:
		return nil, err
	}
	if !old.ExpiresAt.After(now) {
		return nil, invalid
	}
	u, err := s.Users.GetUser(ctx, old.UserID)
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return nil, invalid
		}
		return nil, err
	}
	if u.Disabled {
		return nil, invalid
	}
	// The family, or the user's older sessions, may have been revoked on any replica.
	probe := models.Actor{UserID: u.ID, FamilyID: old.FamilyID, TokenID: "-"}
	if err := s.Revocations.Check(ctx, probe, old.CreatedAt); err != nil {
		if errors.Is(err, models.ErrUnauthorized) {
			return nil, invalid
		}
		return nil, err
	}
	return s.issue(ctx, u, old.FamilyID)
}

// Logout ends the session at once on every replica: the access token and its whole refresh
// family are revoked.
func (s *Auth) Logout(ctx context.Context, a models.Actor) error {
	now := s.Now()
	if err := s.revoke(ctx, models.RevokedTokenKey(a.TokenID), "logout", now.Add(models.AccessTokenTTL+time.Minute)); err != nil {
		return err
	}
	if err := s.revoke(ctx, models.RevokedFamilyKey(a.FamilyID), "logout", now.Add(models.RefreshTokenTTL)); err != nil {
		return err
	}
	audit(ctx, s.Audit, s.Log, now, &a, "logout", "user", a.UserID, nil)
	return nil
}

// Authenticate verifies a bearer token and that it was not revoked, and returns its actor.
func (s *Auth) Authenticate(ctx context.Context, token string) (models.Actor, error) {
	a, iat, err := s.Access.Parse(token)
	if err != nil {
		return models.Actor{}, err
	}
	if err := s.Revocations.Check(ctx, a, iat); err != nil {
		return models.Actor{}, err
	}
	return a, nil
}

// disabledUntil stands for "until the account is enabled again": a user revocation at this time
// covers every token, including any issued while the account is disabled.
var disabledUntil = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// RevokeUser ends every session of a disabled account, and any token issued while it stays
// disabled (a sign-in already past its password check when the account was disabled).
func (s *Auth) RevokeUser(ctx context.Context, userID string) error {
	return s.putRevocation(ctx, models.Revocation{ID: models.RevokedUserKey(userID), Reason: "account disabled", At: disabledUntil, ExpiresAt: disabledUntil})
}

// RestoreUser re-enables sign-in: tokens issued before now stay revoked, later ones work.
func (s *Auth) RestoreUser(ctx context.Context, userID string) error {
	now := s.Now().UTC()
	return s.putRevocation(ctx, models.Revocation{ID: models.RevokedUserKey(userID), Reason: "account re-enabled", At: now, ExpiresAt: now.Add(models.RefreshTokenTTL)})
}

func (s *Auth) putRevocation(ctx context.Context, rv models.Revocation) error {
	if err := s.Tokens.PutRevocation(ctx, rv); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	s.Revocations.Add(rv)
	if err := s.Bus.Publish(ctx, models.Event{Type: models.EventRevoked, ID: rv.ID, At: rv.At, ExpiresAt: rv.ExpiresAt}); err != nil {
		s.Log.WarnContext(ctx, "revocation broadcast failed; other replicas rely on the store", "err", err)
	}
	return nil
}

// revoke makes a revocation durable, applies it here and tells the other replicas. The store
// write must succeed; the broadcast is best effort because replicas that miss it reconcile
// from the store (and check the store while their bus is down).
func (s *Auth) revoke(ctx context.Context, id, reason string, expires time.Time) error {
	rv := models.Revocation{ID: id, Reason: reason, At: s.Now().UTC(), ExpiresAt: expires.UTC()}
	if err := s.Tokens.Revoke(ctx, rv); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	s.Revocations.Add(rv)
	if err := s.Bus.Publish(ctx, models.Event{Type: models.EventRevoked, ID: id, At: rv.At, ExpiresAt: rv.ExpiresAt}); err != nil {
		s.Log.WarnContext(ctx, "revocation broadcast failed; other replicas rely on the store", "err", err)
	}
	return nil
}

func (s *Auth) issue(ctx context.Context, u *models.User, family string) (*models.TokenPair, error) {
	now := s.Now()
	a := actorOf(u, family)
	access, _, _, err := s.Access.Issue(*a, models.AccessTokenTTL)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("refresh token: %w", err)
	}
	refresh := base64.RawURLEncoding.EncodeToString(raw)
	rt := &models.RefreshToken{Hash: hashToken(refresh), FamilyID: family, UserID: u.ID, CreatedAt: now.UTC(), ExpiresAt: now.Add(models.RefreshTokenTTL).UTC()}
	if err := s.Tokens.CreateRefreshToken(ctx, rt); err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &models.TokenPair{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(models.AccessTokenTTL.Seconds())}, nil
}

func actorOf(u *models.User, family string) *models.Actor {
	return &models.Actor{UserID: u.ID, Role: u.Role, OrgID: u.OrganizationID, Country: u.Country, FamilyID: family}
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// limit applies a login rate limit in Redis, or in this process when Redis does not answer,
// so that an outage neither blocks sign-in nor removes the limit.
func (s *Auth) limit(ctx context.Context, key string, max int) error {
	ok, retry, err := s.Limiter.Allow(ctx, key, max, LoginWindow)
	if err != nil {
		ok, retry = s.fallback.allow(key, max, LoginWindow, s.Now())
	}
	if !ok {
		return &models.Error{Kind: models.ErrRateLimited, Detail: "too many sign-in attempts; try again later", RetryAfter: retry}
	}
	return nil
}

// localLimiter is the in-process fixed-window limiter used while Redis is unreachable.
type localLimiter struct {
	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	n     int
	reset time.Time
}

func (l *localLimiter) allow(key string, max int, d time.Duration, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.windows == nil {
		l.windows = map[string]*window{}
	}
	if len(l.windows) > 100_000 { // bound memory under an address-spraying attack
		for k, w := range l.windows {
			if now.After(w.reset) {
				delete(l.windows, k)
			}
		}
	}
	w, ok := l.windows[key]
	if !ok || now.After(w.reset) {
		w = &window{reset: now.Add(d)}
		l.windows[key] = w
	}
	w.n++
	if w.n > max {
		return false, w.reset.Sub(now)
	}
	return true, 0
}
