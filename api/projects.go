package api

import (
	"strconv"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// handleCreateProject starts a project from an agreed engagement. A retried request answers
// 200 with the same project.
func (s *Server) handleCreateProject() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in service.ProjectInput
		if err := decode(c, &in); err != nil {
			return err
		}
		p, created, err := s.deps.App.Projects.Create(c.UserContext(), actor(c), in)
		if err != nil {
			return err
		}
		c.Location("/api/v1/projects/" + p.ID)
		setETag(c, p.Version)
		if created {
			c.Status(fiber.StatusCreated)
		}
		return c.JSON(p)
	}
}

// handleListProjects lists the projects the caller may see, with funding.
func (s *Server) handleListProjects() fiber.Handler {
	return func(c *fiber.Ctx) error {
		status := 0
		if raw := c.Query("status"); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil {
				n = -1
			}
			status = n
		}
		items, err := s.deps.App.Projects.List(c.UserContext(), actor(c), c.Query("country"), c.Query("theme"), status)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

// handleGetProject returns a project with its funding and overlaps.
func (s *Server) handleGetProject() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := s.deps.App.Projects.Get(c.UserContext(), actor(c), c.Params("id"))
		if err != nil {
			return err
		}
		setETag(c, p.Version)
		return c.JSON(p)
	}
}

// handlePatchProject edits a project (its donor, coordinators).
func (s *Server) handlePatchProject() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ifMatch, err := parseIfMatch(c)
		if err != nil {
			return err
		}
		var in service.ProjectPatch
		if err := decode(c, &in); err != nil {
			return err
		}
		p, err := s.deps.App.Projects.Patch(c.UserContext(), actor(c), c.Params("id"), in, ifMatch)
		if err != nil {
			return err
		}
		setETag(c, p.Version)
		return c.JSON(p)
	}
}

type statusBody struct {
	Status models.ActivityStatus `json:"status"`
	Reason string                `json:"reason"`
}

// handleProjectStatus moves a project to another IATI activity status.
func (s *Server) handleProjectStatus() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var b statusBody
		if err := decode(c, &b); err != nil {
			return err
		}
		p, err := s.deps.App.Projects.SetStatus(c.UserContext(), actor(c), c.Params("id"), b.Status, b.Reason)
		if err != nil {
			return err
		}
		setETag(c, p.Version)
		return c.JSON(p)
	}
}

// handleAddTransaction records a pledge, commitment, disbursement or expenditure.
func (s *Server) handleAddTransaction() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in service.TransactionInput
		if err := decode(c, &in); err != nil {
			return err
		}
		tx, p, err := s.deps.App.Projects.AddTransaction(c.UserContext(), actor(c), c.Params("id"), in)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(fiber.Map{"transaction": tx, "funding": p.Funding, "warnings": p.Warnings, "project_version": p.Version})
	}
}
