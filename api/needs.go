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
		return c.Status(fiber.StatusCreated).JSON(n)
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
		return c.JSON(n)
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
		return c.JSON(n)
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
		return c.JSON(ch)
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
		return c.JSON(fiber.Map{"items": nonNil(items), "next_cursor": next})
	}
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
			Fields: []models.FieldError{{Field: "If-Match", Message: "must be a version number"}}}
	}
	return &v, nil
}
