package api

import (
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// handleCreateOrg creates an organization (coordinators, admins).
func (s *Server) handleCreateOrg() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in service.OrgInput
		if err := decode(c, &in); err != nil {
			return err
		}
		o, err := s.deps.App.Accounts.CreateOrg(c.UserContext(), actor(c), in)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(o)
	}
}

// handleListOrgs lists organizations (any signed-in user).
func (s *Server) handleListOrgs() fiber.Handler {
	return func(c *fiber.Ctx) error {
		orgs, err := s.deps.App.Accounts.ListOrgs(c.UserContext())
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": nonNil(orgs)})
	}
}

// handleGetOrg returns one organization (any signed-in user).
func (s *Server) handleGetOrg() fiber.Handler {
	return func(c *fiber.Ctx) error {
		o, err := s.deps.App.Accounts.GetOrg(c.UserContext(), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(o)
	}
}

// handleCreateUser creates an account (coordinators for ministry and donor users, admins for all).
func (s *Server) handleCreateUser() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in service.UserInput
		if err := decode(c, &in); err != nil {
			return err
		}
		u, err := s.deps.App.Accounts.CreateUser(c.UserContext(), actor(c), in)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(u)
	}
}

// handleListUsers lists accounts (coordinators, admins).
func (s *Server) handleListUsers() fiber.Handler {
	return func(c *fiber.Ctx) error {
		users, err := s.deps.App.Accounts.ListUsers(c.UserContext(), actor(c))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": nonNil(users)})
	}
}

// handleGetUser returns one account (coordinators, admins, or the user themself).
func (s *Server) handleGetUser() fiber.Handler {
	return func(c *fiber.Ctx) error {
		u, err := s.deps.App.Accounts.GetUser(c.UserContext(), actor(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(u)
	}
}

// handleSetDisabled disables or re-enables an account; disabling ends its sessions at once.
func (s *Server) handleSetDisabled(disabled bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u, err := s.deps.App.Accounts.SetDisabled(c.UserContext(), actor(c), c.Params("id"), disabled)
		if err != nil {
			return err
		}
		return c.JSON(u)
	}
}

// handleAudit lists the audit trail, optionally for one object (coordinators, admins).
func (s *Server) handleAudit() fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := queryLimit(c, 50, 500)
		if err != nil {
			return err
		}
		entries, err := s.deps.App.Accounts.AuditTrail(c.UserContext(), actor(c), c.Query("object_id"), limit)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": nonNil(entries)})
	}
}
