package api

import (
	"strconv"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// handleCreateNeed posts a draft need (ministries for their country; coordinators on behalf of
// a government).
func (s *Server) handleCreateNeed() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in service.NeedInput
		if err := decode(c, &in); err != nil {
			return err
		}
		n, err := s.deps.App.Needs.Create(c.UserContext(), actor(c), in)
		if err != nil {
			return err
		}
		c.Location("/api/v1/needs/" + n.ID)
		setETag(c, n.Version)
		return s.sendNeed(c.Status(fiber.StatusCreated), n)
	}
}

// handleGetNeed returns a need the caller may see.
func (s *Server) handleGetNeed() fiber.Handler {
	return func(c *fiber.Ctx) error {
		n, err := s.deps.App.Needs.Get(c.UserContext(), actor(c), c.Params("id"))
		if err != nil {
			return err
		}
		setETag(c, n.Version)
		return s.sendNeed(c, n)
	}
}

// handlePatchNeed edits a need, refusing a stale version.
func (s *Server) handlePatchNeed() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ifMatch, err := parseIfMatch(c)
		if err != nil {
			return err
		}
		var p service.NeedPatch
		if err := decode(c, &p); err != nil {
			return err
		}
		n, err := s.deps.App.Needs.Patch(c.UserContext(), actor(c), c.Params("id"), p, ifMatch)
		if err != nil {
			return err
		}
		setETag(c, n.Version)
		return s.sendNeed(c, n)
	}
}

type reasonBody struct {
	Reason string `json:"reason"`
}

// decodeReason reads the optional {"reason": "..."} body of a transition.
func decodeReason(c *fiber.Ctx) (string, error) {
	if len(strings.TrimSpace(string(c.Body()))) == 0 {
		return "", nil
	}
	var b reasonBody
	if err := decode(c, &b); err != nil {
		return "", err
	}
	return b.Reason, nil
}

// handleNeedTransition applies submit, approve, reject or withdraw; withdraw and reject answer
// what they did to the need's engagements (cascade).
func (s *Server) handleNeedTransition(t models.NeedTransition) fiber.Handler {
	return func(c *fiber.Ctx) error {
		reason, err := decodeReason(c)
		if err != nil {
			return err
		}
		ch, err := s.deps.App.Needs.Change(c.UserContext(), actor(c), c.Params("id"), t, reason)
		if err != nil {
			return err
		}
		setETag(c, ch.Version)
		v, err := s.needView(c, ch.Need)
		if err != nil {
			return err
		}
		return c.JSON(needChange{needView: v, Cascade: ch.Cascade})
	}
}

// handleListNeeds lists and searches the needs the caller may see.
func (s *Server) handleListNeeds() fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := queryLimit(c, 20, 100)
		if err != nil {
			return err
		}
		items, next, err := s.deps.App.Needs.List(c.UserContext(), actor(c), service.NeedListParams{
			Country: c.Query("country"), Theme: c.Query("theme"), Capability: c.Query("capability"), Status: c.Query("status"),
			Q: c.Query("q"), Sort: c.Query("sort"), Cursor: c.Query("cursor"), OrgID: c.Query("organization_id"), Limit: limit})
		if err != nil {
			return err
		}
		views := make([]needView, len(items))
		for i, n := range items {
			if views[i], err = s.needView(c, n); err != nil {
				return err
			}
		}
		return c.JSON(fiber.Map{"items": views, "next_cursor": next})
	}
}

// needChange is the answer to a transition: the need, and what withdrawing or rejecting it did
// to its engagements.
type needChange struct {
	needView
	Cascade *service.Cascade `json:"cascade,omitempty"`
}

// needView is a need as the API answers it: the need and the name of the organization that
// posted it, so that a client can say who is behind a need without another call.
type needView struct {
	*models.Need
	OrganizationName string `json:"organization_name"`
	// Localized is the title and description in the caller's language (lang, else
	// Accept-Language): the author's translation, else the original marked as a fallback.
	Localized models.LocalText `json:"localized"`
}

func (s *Server) needView(c *fiber.Ctx, n *models.Need) (needView, error) {
	name, err := s.deps.App.Accounts.OrgName(c.UserContext(), n.OrganizationID)
	return needView{Need: n, OrganizationName: name, Localized: n.In(lang(c))}, err
}

// sendNeed answers one need as a needView.
func (s *Server) sendNeed(c *fiber.Ctx, n *models.Need) error {
	v, err := s.needView(c, n)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// setETag exposes an object's version for If-Match.
func setETag(c *fiber.Ctx, v int64) { c.Set(fiber.HeaderETag, `"`+strconv.FormatInt(v, 10)+`"`) }

// parseIfMatch reads an If-Match header holding a version ("3", W/"3" or 3).
func parseIfMatch(c *fiber.Ctx) (*int64, error) {
	h := strings.TrimSpace(c.Get(fiber.HeaderIfMatch))
	if h == "" {
		return nil, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 0 {
		return nil, &models.Error{Kind: models.ErrMalformed, Detail: "If-Match must hold the object's version, e.g. \"3\"",
			Fields: []models.FieldError{{Field: "If-Match", Code: models.ProblemVersionFormat}}}
	}
	return &v, nil
}
