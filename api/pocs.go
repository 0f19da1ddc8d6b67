package api

import (
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// Points of Contact and communication checks. The contacts are personal data: the service
// answers 404 to whoever may not see them (models.CanSeePoCs), and none of these handlers logs
// a body.

// handleListPoCs returns a state's Points of Contact.
func (s *Server) handleListPoCs() fiber.Handler {
	return func(c *fiber.Ctx) error {
		l, err := s.deps.App.PoCs.List(c.UserContext(), actor(c), c.Params("iso"))
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(l)
	}
}

// handleGetPoC returns one Point of Contact.
func (s *Server) handleGetPoC() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := s.deps.App.PoCs.Get(c.UserContext(), actor(c), c.Params("iso"), c.Params("id"))
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		setETag(c, p.Version)
		return c.JSON(p)
	}
}

// handleCreatePoC adds a Point of Contact (the state's ministries, coordinators).
func (s *Server) handleCreatePoC() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in models.PoCInput
		if err := decode(c, &in); err != nil {
			return err
		}
		p, err := s.deps.App.PoCs.Create(c.UserContext(), actor(c), c.Params("iso"), in)
		if err != nil {
			return err
		}
		setETag(c, p.Version)
		return c.Status(fiber.StatusCreated).JSON(p)
	}
}

// handlePatchPoC changes the fields sent (If-Match or "version" guard against stale edits).
func (s *Server) handlePatchPoC() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ifMatch, err := parseIfMatch(c)
		if err != nil {
			return err
		}
		var in service.PoCPatch
		if err := decode(c, &in); err != nil {
			return err
		}
		p, err := s.deps.App.PoCs.Update(c.UserContext(), actor(c), c.Params("iso"), c.Params("id"), in, ifMatch)
		if err != nil {
			return err
		}
		setETag(c, p.Version)
		return c.JSON(p)
	}
}

// handleDeletePoC removes a Point of Contact.
func (s *Server) handleDeletePoC() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.deps.App.PoCs.Delete(c.UserContext(), actor(c), c.Params("iso"), c.Params("id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// handleCountryChecks returns a country's recent communication checks: outcomes for everyone
// signed in, each contact's result for those who may see the contacts.
func (s *Server) handleCountryChecks() fiber.Handler {
	return func(c *fiber.Ctx) error {
		items, err := s.deps.App.PoCChecks.CountryChecks(c.UserContext(), actor(c), c.Params("iso"))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

// handleRunPoCCheck starts a communication check (coordinators).
func (s *Server) handleRunPoCCheck() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in service.PoCCheckInput
		if err := decode(c, &in); err != nil {
			return err
		}
		v, err := s.deps.App.PoCChecks.Run(c.UserContext(), actor(c), in)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(v)
	}
}

// handleListPoCChecks lists the checks with their summaries (coordinators).
func (s *Server) handleListPoCChecks() fiber.Handler {
	return func(c *fiber.Ctx) error {
		items, err := s.deps.App.PoCChecks.List(c.UserContext(), actor(c))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

// handleGetPoCCheck returns a check's results per state and contact (coordinators).
func (s *Server) handleGetPoCCheck() fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := s.deps.App.PoCChecks.Get(c.UserContext(), actor(c), c.Params("id"))
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(v)
	}
}

// handleClosePoCCheck ends a check now (coordinators).
func (s *Server) handleClosePoCCheck() fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := s.deps.App.PoCChecks.Close(c.UserContext(), actor(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

// ackRequest is the body of POST /poc-acks: the token of an acknowledgement link (in the body,
// not the path, so that it never reaches an access log).
type ackRequest struct {
	Token string `json:"token"`
}

// handleAcknowledge uses an acknowledgement link, without sign-in: the signed token is the
// credential. 200 when it acknowledged; 409 when the link was used before or its check is
// over; 404 when it is not a valid link.
func (s *Server) handleAcknowledge() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in ackRequest
		if err := decode(c, &in); err != nil {
			return err
		}
		info, err := s.deps.App.PoCChecks.Acknowledge(c.UserContext(), in.Token)
		if err != nil {
			return err
		}
		switch info.State {
		case service.AckAlready:
			return models.Errorf(models.ErrConflict, "this link was already used: the acknowledgement was recorded at %s",
				info.AcknowledgedAt.UTC().Format("2006-01-02T15:04:05Z"))
		case service.AckExpired:
			return models.Errorf(models.ErrConflict, "this check is over: its links no longer work")
		}
		return c.JSON(info)
	}
}

// handleOutbox lists the e-mails kept in the outbox (coordinators), newest first.
func (s *Server) handleOutbox() fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := queryLimit(c, 50, 500)
		if err != nil {
			return err
		}
		v, err := s.deps.App.PoCChecks.Outbox(c.UserContext(), actor(c), limit)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(v)
	}
}
