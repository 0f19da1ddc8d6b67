package api

import (
	"context"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
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
	// The header as the request holds it, not a copy (the app is Immutable, so c.Get copies):
	// the token is only read during this request, and the application layer copies what it
	// keeps (service.tokenCache).
	h := utils.UnsafeString(c.Request().Header.Peek(fiber.HeaderAuthorization))
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

// authenticate verifies a bearer token and its revocations (the application layer remembers
// verified signatures: service.tokenCache).
func (s *Server) authenticate(ctx context.Context, token string) (models.Actor, error) {
	return s.deps.App.Auth.Authenticate(ctx, token)
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
		u, err := s.deps.App.Accounts.Me(c.UserContext(), a)
		if err != nil {
			return err
		}
		return c.JSON(u)
	}
}
