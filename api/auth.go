package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/models/jwtauth"
	"github.com/capmatch/capmatch/models/service"
	"github.com/gofiber/fiber/v2"
)

type actorKey struct{}

// requireAuth authenticates the bearer token and puts the actor in the request's locals. Every
// route that needs a signed-in user lists it in the route table. An account whose password
// was set by someone else gets 403 urn:capmatch:problem:password-change-required until it
// has chosen its own (service.Auth.PasswordGate); the few routes it may use meanwhile take
// requireSession instead.
func (s *Server) requireAuth(c *fiber.Ctx) error {
	if err := s.authenticateRequest(c); err != nil {
		return err
	}
	if err := s.deps.App.Auth.PasswordGate(c.UserContext(), actor(c)); err != nil {
		return err
	}
	return c.Next()
}

// requireSession is requireAuth without the password gate: for reading one's own account,
// changing one's password and signing out.
func (s *Server) requireSession(c *fiber.Ctx) error {
	if err := s.authenticateRequest(c); err != nil {
		return err
	}
	return c.Next()
}

// authenticateRequest authenticates the bearer token and puts the actor in the locals.
func (s *Server) authenticateRequest(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="capmatch"`)
		return models.Errorf(models.ErrUnauthorized, "send an access token: Authorization: Bearer <token>")
	}
	a, err := s.authenticate(c.UserContext(), strings.TrimSpace(token))
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="capmatch", error="invalid_token"`)
		return err
	}
	c.Locals(actorKey{}, &a)
	return nil
}

// authenticate is Auth.Authenticate with the signature check remembered: the first request
// with a token verifies it in full (signature, algorithm, issuer, audience, times) and the
// revocations; later requests with the same token, while it is unexpired, check only the
// revocations. Verifying an HS256 token and decoding its claims was the largest CPU cost of
// a cached ranking read (BENCHMARKS.md, issue 5). A revoked token is still refused at once:
// revocations are checked on every request, on both paths.
func (s *Server) authenticate(ctx context.Context, token string) (models.Actor, error) {
	auth := s.deps.App.Auth
	if v, ok := verified.get(token, s.deps.App, auth.Now(), time.Now()); ok {
		if err := s.deps.App.Revocations.Check(ctx, v.actor, v.issued); err != nil {
			return models.Actor{}, err
		}
		return v.actor, nil
	}
	a, err := auth.Authenticate(ctx, token)
	if err != nil {
		return a, err
	}
	if issued, expires, ok := tokenTimes(token); ok {
		// Fiber's strings point into fasthttp's request buffer, which the next request on the
		// connection overwrites: the key must be a copy.
		verified.put(strings.Clone(token), verifiedToken{actor: a, issued: issued, expires: expires, app: s.deps.App})
	}
	return a, nil
}

// tokenTimes reads the iat and exp claims of a token that was just verified (so its payload
// is the one that was signed).
func tokenTimes(token string) (issued, expires time.Time, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return issued, expires, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return issued, expires, false
	}
	var c struct {
		IssuedAt   *int64 `json:"iat"`
		IssuedNano int64  `json:"iat_ns"`
		ExpiresAt  *int64 `json:"exp"`
	}
	if json.Unmarshal(raw, &c) != nil || c.IssuedAt == nil || c.ExpiresAt == nil {
		return issued, expires, false
	}
	return jwtauth.IssuedAt(time.Unix(*c.IssuedAt, 0), c.IssuedNano), time.Unix(*c.ExpiresAt, 0).UTC(), true
}

// maxVerifiedTokens bounds the verified-token cache (about 600 bytes an entry).
const maxVerifiedTokens = 10_000

// verified is the process's verified-token cache. It is shared by the servers of a process
// (tests run several), so each entry names the application (and so the token verifier) that
// accepted it and serves only that application: a token one server accepted is never taken
// as verified by a server with other keys.
var verified = &verifiedTokens{m: map[string]verifiedToken{}}

// verifiedTokens maps an access token, exactly as sent, to what verifying it gave.
type verifiedTokens struct {
	mu sync.RWMutex
	m  map[string]verifiedToken
}

// verifiedToken is what verifying a token gave: its actor, its issue time (revocations of a
// user apply to tokens issued until then), its expiry, and the application that accepted it.
type verifiedToken struct {
	actor   models.Actor
	issued  time.Time
	expires time.Time
	app     *service.App
}

// get returns a token's entry if the same application accepted it and it has not expired by
// either clock (the service's and the wall clock: a hit needs both to agree the token is
// still valid, so the cache never accepts a token that verifying it again would refuse).
func (v *verifiedTokens) get(token string, app *service.App, now, wall time.Time) (verifiedToken, bool) {
	v.mu.RLock()
	e, ok := v.m[token]
	v.mu.RUnlock()
	if !ok || e.app != app || !now.Before(e.expires) || !wall.Before(e.expires) {
		return verifiedToken{}, false
	}
	return e, true
}

// put remembers a verified token; a full cache is emptied first (tokens live 15 minutes, so
// the ones in use come back at once), which keeps it bounded without bookkeeping.
func (v *verifiedTokens) put(token string, e verifiedToken) {
	v.mu.Lock()
	if len(v.m) >= maxVerifiedTokens {
		clear(v.m)
	}
	v.m[token] = e
	v.mu.Unlock()
}

// actor returns the authenticated actor; requireAuth must have run.
func actor(c *fiber.Ctx) *models.Actor {
	a, _ := c.Locals(actorKey{}).(*models.Actor)
	return a
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// handleLogin exchanges e-mail and password for a token pair.
func (s *Server) handleLogin() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req loginRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		pair, err := s.deps.App.Auth.Login(c.UserContext(), req.Email, req.Password, c.IP())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(pair)
	}
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// handleRefresh rotates a refresh token into a new pair.
func (s *Server) handleRefresh() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req refreshRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		pair, err := s.deps.App.Auth.Refresh(c.UserContext(), req.RefreshToken)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(pair)
	}
}

// handleLogout revokes the caller's access token and refresh family.
func (s *Server) handleLogout() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.deps.App.Auth.Logout(c.UserContext(), *actor(c)); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// handleChangePassword replaces the caller's password; the caller's other sessions end.
func (s *Server) handleChangePassword() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req changePasswordRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if err := s.deps.App.Auth.ChangePassword(c.UserContext(), actor(c), req.CurrentPassword, req.NewPassword, c.IP()); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

type resetPasswordRequest struct {
	Token       string `json:"token"`
	NewPassword string `json:"new_password"`
}

// handleResetPassword sets a password with a one-time reset link, without signing in.
func (s *Server) handleResetPassword() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req resetPasswordRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if err := s.deps.App.Auth.ResetPassword(c.UserContext(), req.Token, req.NewPassword, c.IP()); err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// handleIssuePasswordReset gives a coordinator or admin a one-time reset link for a user.
func (s *Server) handleIssuePasswordReset() fiber.Handler {
	return func(c *fiber.Ctx) error {
		link, err := s.deps.App.Accounts.IssuePasswordReset(c.UserContext(), actor(c), c.Params("id"))
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Status(fiber.StatusCreated).JSON(link)
	}
}

// handleMe returns the caller's account.
func (s *Server) handleMe() fiber.Handler {
	return func(c *fiber.Ctx) error {
		a := actor(c)
		u, err := s.deps.App.Accounts.GetUser(c.UserContext(), a, a.UserID)
		if err != nil {
			return err
		}
		return c.JSON(u)
	}
}
