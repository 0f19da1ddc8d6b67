package api

import (
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// handleCreateOffer posts a draft offer for the donor's organization.
func (s *Server) handleCreateOffer() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in service.OfferInput
		if err := decode(c, &in); err != nil {
			return err
		}
		o, err := s.deps.App.Offers.Create(c.UserContext(), actor(c), in)
		if err != nil {
			return err
		}
		c.Location("/api/v1/offers/" + o.ID)
		setETag(c, o.Version)
		return s.sendOffer(c.Status(fiber.StatusCreated), o)
	}
}

// handleGetOffer returns an offer the caller may see.
func (s *Server) handleGetOffer() fiber.Handler {
	return func(c *fiber.Ctx) error {
		o, err := s.deps.App.Offers.Get(c.UserContext(), actor(c), c.Params("id"))
		if err != nil {
			return err
		}
		setETag(c, o.Version)
		return s.sendOffer(c, o)
	}
}

// handlePatchOffer edits an offer, refusing a stale version.
func (s *Server) handlePatchOffer() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ifMatch, err := parseIfMatch(c)
		if err != nil {
			return err
		}
		var p service.OfferPatch
		if err := decode(c, &p); err != nil {
			return err
		}
		o, err := s.deps.App.Offers.Patch(c.UserContext(), actor(c), c.Params("id"), p, ifMatch)
		if err != nil {
			return err
		}
		setETag(c, o.Version)
		return s.sendOffer(c, o)
	}
}

// offerChange is the answer to a transition: the offer, and what closing it did to its
// engagements.
type offerChange struct {
	offerView
	Cascade *service.Cascade `json:"cascade,omitempty"`
}

// handleOfferTransition publishes or closes an offer; closing answers what it did to the
// offer's engagements.
func (s *Server) handleOfferTransition(t models.OfferTransition) fiber.Handler {
	return func(c *fiber.Ctx) error {
		reason, err := decodeReason(c)
		if err != nil {
			return err
		}
		ch, err := s.deps.App.Offers.Change(c.UserContext(), actor(c), c.Params("id"), t, reason)
		if err != nil {
			return err
		}
		setETag(c, ch.Version)
		v, err := s.offerView(c, ch.Offer)
		if err != nil {
			return err
		}
		return c.JSON(offerChange{offerView: v, Cascade: ch.Cascade})
	}
}

// handleListOffers lists and searches the offers the caller may see.
func (s *Server) handleListOffers() fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := queryLimit(c, 20, 100)
		if err != nil {
			return err
		}
		items, next, err := s.deps.App.Offers.List(c.UserContext(), actor(c), service.OfferListParams{
			Country: c.Query("country"), Theme: c.Query("theme"), Capability: c.Query("capability"), Status: c.Query("status"),
			Q: c.Query("q"), Cursor: c.Query("cursor"), OrgID: c.Query("organization_id"), Limit: limit})
		if err != nil {
			return err
		}
		views := make([]offerView, len(items))
		for i, o := range items {
			if views[i], err = s.offerView(c, o); err != nil {
				return err
			}
		}
		return c.JSON(fiber.Map{"items": views, "next_cursor": next})
	}
}

// offerView is an offer as the API answers it to the caller (what remains of it, and what is
// committed only to those who may see it: service.ViewOffer) and the name of the organization
// that runs it (with contact_name and contact_email, when the programme published them, to
// reach it).
type offerView struct {
	*service.OfferView
	OrganizationName string `json:"organization_name"`
	// Localized is the title and description in the caller's language (see needView).
	Localized models.LocalText `json:"localized"`
}

func (s *Server) offerView(c *fiber.Ctx, o *models.Offer) (offerView, error) {
	name, err := s.deps.App.Accounts.OrgName(c.UserContext(), o.OrganizationID)
	return offerView{OfferView: service.ViewOffer(actor(c), o), OrganizationName: name, Localized: o.In(lang(c))}, err
}

// sendOffer answers one offer as an offerView.
func (s *Server) sendOffer(c *fiber.Ctx, o *models.Offer) error {
	v, err := s.offerView(c, o)
	if err != nil {
		return err
	}
	return c.JSON(v)
}
