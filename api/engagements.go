package api

import (
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// handleProposeEngagement opens an engagement (the need's ministry or the offer's donor). A
// retried proposal answers 200 with the same engagement.
func (s *Server) handleProposeEngagement() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in service.EngagementInput
		if err := decode(c, &in); err != nil {
			return err
		}
		e, created, err := s.deps.App.Engagements.Propose(c.UserContext(), actor(c), in)
		if err != nil {
			return err
		}
		c.Location("/api/v1/engagements/" + e.ID)
		if created {
			c.Status(fiber.StatusCreated)
		}
		return c.JSON(e)
	}
}

// handleListEngagements lists the engagements the caller takes part in (all for coordinators).
func (s *Server) handleListEngagements() fiber.Handler {
	return func(c *fiber.Ctx) error {
		items, err := s.deps.App.Engagements.List(c.UserContext(), actor(c), c.Query("need_id"), c.Query("offer_id"), c.Query("status"))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

// handleGetEngagement returns one engagement with its message thread.
func (s *Server) handleGetEngagement() fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, err := s.deps.App.Engagements.Get(c.UserContext(), actor(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(e)
	}
}

// handleAcceptEngagement agrees an engagement (the side that did not propose).
func (s *Server) handleAcceptEngagement() fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, err := s.deps.App.Engagements.Accept(c.UserContext(), actor(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(e)
	}
}

// handleCloseEngagement declines (the other side) or withdraws (the proposer) an engagement.
func (s *Server) handleCloseEngagement(withdraw bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		reason, err := decodeReason(c)
		if err != nil {
			return err
		}
		eng := s.deps.App.Engagements
		close := eng.Decline
		if withdraw {
			close = eng.Withdraw
		}
		e, err := close(c.UserContext(), actor(c), c.Params("id"), reason)
		if err != nil {
			return err
		}
		return c.JSON(e)
	}
}

// handleCancelEngagement calls off an agreed engagement without a project (either side,
// coordinators), with a reason; its offer slot and amount are released.
func (s *Server) handleCancelEngagement() fiber.Handler {
	return func(c *fiber.Ctx) error {
		reason, err := decodeReason(c)
		if err != nil {
			return err
		}
		e, err := s.deps.App.Engagements.Cancel(c.UserContext(), actor(c), c.Params("id"), reason)
		if err != nil {
			return err
		}
		return c.JSON(e)
	}
}

type messageBody struct {
	Body string `json:"body"`
}

// handleEngagementMessage adds a message to an engagement's thread.
func (s *Server) handleEngagementMessage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var b messageBody
		if err := decode(c, &b); err != nil {
			return err
		}
		e, err := s.deps.App.Engagements.Message(c.UserContext(), actor(c), c.Params("id"), b.Body)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(e)
	}
}
