package api

import (
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// handleNeedMatches returns the offers that fit a need, best first, each score explained:
// every factor's reason code and arguments, and its text in the caller's language.
func (s *Server) handleNeedMatches() fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := queryLimit(c, 10, service.MaxRankLimit)
		if err != nil {
			return err
		}
		b, err := s.deps.App.Matching.OffersForNeedJSON(c.UserContext(), actor(c), c.Params("id"), limit, lang(c))
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(b)
	}
}

// handleOfferMatches returns the needs an offer fits, best first, listing only needs the
// caller may see; reasons as in handleNeedMatches.
func (s *Server) handleOfferMatches() fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := queryLimit(c, 10, service.MaxRankLimit)
		if err != nil {
			return err
		}
		b, err := s.deps.App.Matching.NeedsForOfferJSON(c.UserContext(), actor(c), c.Params("id"), limit, lang(c))
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(b)
	}
}

// handleGetWeights returns the matching weights in force (any signed-in user: scores are
// explained with them).
func (s *Server) handleGetWeights() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return c.JSON(s.deps.App.Matching.Weights())
	}
}

// handlePutWeights replaces the weights (coordinators); every ranking changes at once.
func (s *Server) handlePutWeights() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var w service.Weights
		if err := decode(c, &w); err != nil {
			return err
		}
		got, err := s.deps.App.Matching.SetWeights(c.UserContext(), actor(c), w)
		if err != nil {
			return err
		}
		return c.JSON(got)
	}
}

// handleAllocation proposes which need each open offer should serve (coordinators).
func (s *Server) handleAllocation() fiber.Handler {
	return func(c *fiber.Ctx) error {
		items, err := s.deps.App.Matching.Allocation(c.UserContext(), actor(c))
		if err != nil {
			return err
		}
		total := 0.0
		for _, m := range items {
			total += m.Score
		}
		return c.JSON(fiber.Map{"items": items, "total_score": total, "weights_version": s.deps.App.Matching.Weights().Version})
	}
}
