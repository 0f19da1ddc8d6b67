package api

import (
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

type actorKey struct{}

// requireAuth authenticates the bearer token and puts the actor in the request's locals. Every
// route that needs a signed-in user lists it in the route table.
func (s *Server) requireAuth(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="capmatch"`)
		return models.Errorf(models.ErrUnauthorized, "send an access token: Authorization: Bearer <token>")
	}
	a, err := s.deps.App.Auth.Authenticate(c.UserContext(), strings.TrimSpace(token))
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="capmatch", error="invalid_token"`)
		return err
	}
	c.Locals(actorKey{}, &a)
	return c.Next()
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
