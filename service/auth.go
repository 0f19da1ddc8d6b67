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
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Sign-in limits. Only failed sign-ins count, and a success clears the failures of that
// account from that address, so a room of people signing in correctly from one address (a
// workshop behind one NAT) is never slowed down, however many they are.
//
//   - LoginAccountBackoff applies to one account from one client address: after 5 failures,
//     each further failure makes that pair wait 2 s, then 4 s, 8 s, ... up to 15 minutes.
//     Someone failing against an account from another address never slows its owner down.
//   - LoginAddressBackoff applies to one client address whatever the accounts it names
//     (credential stuffing): after 50 failures within 15 minutes, 1 minute, then 2, 4, ... up
//     to 15 minutes. IPv6 addresses count per /64, the block a single host usually holds.
var (
	LoginAccountBackoff = models.Backoff{Free: 5, Base: 2 * time.Second, Max: 15 * time.Minute, Memory: 24 * time.Hour}
	LoginAddressBackoff = models.Backoff{Free: 50, Base: time.Minute, Max: 15 * time.Minute, Memory: 15 * time.Minute}
)

// Auth signs users in and out and turns bearer tokens into actors.
type Auth struct {
	users       models.UserStore
	tokens      models.TokenStore
	audit       models.AuditStore
	access      models.AccessTokens
	limiter     models.RateLimiter
	bus         models.Bus
	revocations *Revocations
	passwords   models.Passwords
	now         Clock
	log         *slog.Logger
	// me serves the signed-in user's own account from memory (usercache.go).
	me *userCache

	fallback localLimiter
}

var errBadCredentials = models.Errorf(models.ErrUnauthorized, "wrong e-mail or password")

// EmailKey is the case-insensitive form of an e-mail address under which accounts are unique.
func EmailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Login checks credentials and returns a new token pair in a new refresh family. Unknown
// e-mails and wrong passwords get the same error after the same work. A client address or an
// account (from that address) that failed too often must wait first (ErrRateLimited with
// RetryAfter), without its password being checked.
func (s *Auth) Login(ctx context.Context, email, password, clientIP string) (*models.TokenPair, error) {
	key := EmailKey(email)
	addrKey, acctKey := loginAddressKey(clientIP), loginAccountKey(key, clientIP)
	if err := s.waitLimits(ctx, addrKey, acctKey); err != nil {
		return nil, err
	}
	u, err := s.users.GetUserByEmail(ctx, key)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	hash := ""
	if u != nil && !u.Disabled {
		hash = u.PasswordHash
	}
	if len(password) > 1024 || s.passwords.Verify(hash, password) != nil {
		s.failed(ctx, addrKey, LoginAddressBackoff)
		s.failed(ctx, acctKey, LoginAccountBackoff)
		return nil, errBadCredentials
	}
	s.cleared(ctx, acctKey)
	pair, err := s.issue(ctx, u, models.NewID(s.now()))
	if err != nil {
		return nil, err
	}
	audit(ctx, s.audit, s.log, s.now(), actorOf(u, ""), "login", "user", u.ID, nil)
	return pair, nil
}

// loginAddressKey is the rate-limit key of a client address: an IPv4 address, or the /64 of
// an IPv6 one (a host usually holds a whole /64, so counting single IPv6 addresses would let
// it rotate past the limit).
func loginAddressKey(clientIP string) string {
	if ip, err := netip.ParseAddr(clientIP); err == nil {
		ip = ip.Unmap().WithZone("")
		if ip.Is6() {
			p, _ := ip.Prefix(64)
			return "login:addr:" + p.String()
		}
		return "login:addr:" + ip.String()
	}
	return "login:addr:" + clientIP
}

// loginAccountKey is the rate-limit key of one account (by e-mail key, known or not) from one
// client address. It is hashed: Redis never holds e-mail addresses, and the key stays short
// whatever was typed.
func loginAccountKey(emailKey, clientIP string) string {
	sum := sha256.Sum256([]byte(emailKey + "\x00" + strings.TrimPrefix(loginAddressKey(clientIP), "login:addr:")))
	return "login:acct:" + hex.EncodeToString(sum[:16])
}

// Refresh rotates a refresh token: it retires the presented token and returns a new pair in the
// same family. Presenting a token that was already rotated is treated as theft: the whole
// family is revoked, and the legitimate holder must sign in again.
func (s *Auth) Refresh(ctx context.Context, token string) (*models.TokenPair, error) {
	invalid := models.Errorf(models.ErrUnauthorized, "invalid refresh token")
	if token == "" || len(token) > 200 {
		return nil, invalid
	}
	now := s.now()
	old, err := s.tokens.RetireRefreshToken(ctx, hashToken(token), now)
	switch {
	case errors.Is(err, models.ErrConflict):
		if rerr := s.revoke(ctx, models.RevokedFamilyKey(old.FamilyID), "refresh token reuse", now.Add(models.RefreshTokenTTL)); rerr != nil {
			return nil, rerr
		}
		s.log.WarnContext(ctx, "refresh token reuse: family revoked", "family", old.FamilyID, "user_id", old.UserID)
		return nil, invalid
	case errors.Is(err, models.ErrNotFound):
		return nil, invalid
	case err != nil:
		return nil, err
	}
	if !old.ExpiresAt.After(now) {
		return nil, invalid
	}
	u, err := s.users.GetUser(ctx, old.UserID)
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
	if err := s.revocations.Check(ctx, probe, old.CreatedAt); err != nil {
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
	now := s.now()
	if err := s.revoke(ctx, models.RevokedTokenKey(a.TokenID), "logout", now.Add(models.AccessTokenTTL+time.Minute)); err != nil {
		return err
	}
	if err := s.revoke(ctx, models.RevokedFamilyKey(a.FamilyID), "logout", now.Add(models.RefreshTokenTTL)); err != nil {
		return err
	}
	audit(ctx, s.audit, s.log, now, &a, "logout", "user", a.UserID, nil)
	return nil
}

// Authenticate verifies a bearer token and that it was not revoked, and returns its actor.
func (s *Auth) Authenticate(ctx context.Context, token string) (models.Actor, error) {
	a, iat, _, err := s.access.Parse(token)
	if err != nil {
		return models.Actor{}, err
	}
	if err := s.revocations.Check(ctx, a, iat); err != nil {
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
	now := s.now().UTC()
	return s.putRevocation(ctx, models.Revocation{ID: models.RevokedUserKey(userID), Reason: "account re-enabled", At: now, ExpiresAt: now.Add(models.RefreshTokenTTL)})
}

// userChanged tells every replica that an account changed in a way no revocation announces
// (its UI language), so that none keeps serving the old account from GET /me (usercache.go):
// dropped here, then on the others through the bus, whose Publish waits for them. A failed
// broadcast leaves the others at most userCacheTTL behind.
func (s *Auth) userChanged(ctx context.Context, id string) {
	s.me.drop(id)
	if _, err := s.bus.Publish(ctx, models.Event{Type: models.EventUser, ID: id}); err != nil {
		s.log.WarnContext(ctx, "account change broadcast failed; other replicas catch up within the cache's TTL", "err", err, "user_id", id)
	}
}

func (s *Auth) putRevocation(ctx context.Context, rv models.Revocation) error {
	if err := s.tokens.PutRevocation(ctx, rv); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	s.revocations.Add(rv)
	if _, err := s.bus.Publish(ctx, models.Event{Type: models.EventRevoked, ID: rv.ID, At: rv.At, ExpiresAt: rv.ExpiresAt, Except: rv.Except}); err != nil {
		s.log.WarnContext(ctx, "revocation not yet on the change log; it is appended when the log answers, and replicas that do not follow the log check the store", "err", err)
	}
	return nil
}

// revoke makes a revocation durable, applies it here and appends it to the change log. The
// store write must succeed; an append that fails is retried by the log until it lands, and
// meanwhile every replica that does not follow the log checks the store.
func (s *Auth) revoke(ctx context.Context, id, reason string, expires time.Time) error {
	rv := models.Revocation{ID: id, Reason: reason, At: s.now().UTC(), ExpiresAt: expires.UTC()}
	if err := s.tokens.Revoke(ctx, rv); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	s.revocations.Add(rv)
	if _, err := s.bus.Publish(ctx, models.Event{Type: models.EventRevoked, ID: id, At: rv.At, ExpiresAt: rv.ExpiresAt}); err != nil {
		s.log.WarnContext(ctx, "revocation not yet on the change log; it is appended when the log answers, and replicas that do not follow the log check the store", "err", err)
	}
	return nil
}

func (s *Auth) issue(ctx context.Context, u *models.User, family string) (*models.TokenPair, error) {
	now := s.now()
	a := actorOf(u, family)
	access, _, _, err := s.access.Issue(*a, models.AccessTokenTTL)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("refresh token: %w", err)
	}
	refresh := base64.RawURLEncoding.EncodeToString(raw)
	rt := &models.RefreshToken{Hash: hashToken(refresh), FamilyID: family, UserID: u.ID, CreatedAt: now.UTC(), ExpiresAt: now.Add(models.RefreshTokenTTL).UTC()}
	if err := s.tokens.CreateRefreshToken(ctx, rt); err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &models.TokenPair{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(models.AccessTokenTTL.Seconds())}, nil
}

func actorOf(u *models.User, family string) *models.Actor {
	return &models.Actor{UserID: u.ID, Role: u.Role, OrgID: u.OrganizationID, Country: u.Country, FamilyID: family,
		MustChangePassword: u.MustChangePassword}
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// waitLimits refuses a sign-in while any of keys is blocked. The limits are kept in Redis,
// or in this process while Redis does not answer, so that an outage neither blocks sign-in
// nor removes the limits.
func (s *Auth) waitLimits(ctx context.Context, keys ...string) error {
	wait, err := s.limiter.Wait(ctx, keys...)
	if err != nil {
		wait = s.fallback.wait(s.now(), keys...)
	}
	if wait > 0 {
		return &models.Error{Kind: models.ErrRateLimited, Detail: "too many failed sign-in attempts; try again later", RetryAfter: wait}
	}
	return nil
}

// failed records a failure under key. A Redis error is logged and the failure counted in
// this process instead.
func (s *Auth) failed(ctx context.Context, key string, b models.Backoff) {
	if _, _, err := s.limiter.Fail(ctx, key, b); err != nil {
		s.fallback.fail(s.now(), key, b)
	}
}

// cleared forgets key's failures, in Redis and in this process.
func (s *Auth) cleared(ctx context.Context, key string) {
	if err := s.limiter.Clear(ctx, key); err != nil {
		s.log.WarnContext(ctx, "sign-in limit not cleared; Redis did not answer", "err", err)
	}
	s.fallback.clear(key)
}

// localLimiter is the in-process failure counter used while Redis is unreachable: the same
// back-off, for this replica only.
type localLimiter struct {
	mu      sync.Mutex
	entries map[string]*failures
}

type failures struct {
	n            int
	blockedUntil time.Time
	forgetAt     time.Time
}

func (l *localLimiter) wait(now time.Time, keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var w time.Duration
	for _, k := range keys {
		if f, ok := l.entries[k]; ok && f.blockedUntil.After(now) {
			w = max(w, f.blockedUntil.Sub(now))
		}
	}
	return w
}

func (l *localLimiter) fail(now time.Time, key string, b models.Backoff) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entries == nil {
		l.entries = map[string]*failures{}
	}
	if len(l.entries) > 100_000 { // bound memory under an address-spraying attack
		for k, f := range l.entries {
			if now.After(f.forgetAt) && now.After(f.blockedUntil) {
				delete(l.entries, k)
			}
		}
	}
	f, ok := l.entries[key]
	if !ok || now.After(f.forgetAt) {
		f = &failures{}
		l.entries[key] = f
	}
	f.n++
	f.forgetAt = now.Add(b.Memory)
	if until := now.Add(b.Delay(f.n)); until.After(f.blockedUntil) {
		f.blockedUntil = until
	}
}

func (l *localLimiter) clear(key string) {
	l.mu.Lock()
	delete(l.entries, key)
	l.mu.Unlock()
}
