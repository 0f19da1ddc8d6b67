package api

import (
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// handleListCountries returns every country's profile, counted over what the caller may see.
func (s *Server) handleListCountries() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"items": s.deps.App.Countries.List(c.UserContext(), actor(c))})
	}
}

// handleGetCountry returns one country's profile with its sources.
func (s *Server) handleGetCountry() fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := s.deps.App.Countries.Profile(c.UserContext(), actor(c), c.Params("iso"))
		if err != nil {
			return err
		}
		setETag(c, v.ReadinessVersion)
		return c.JSON(v)
	}
}

// handleCountryExternal lists the activities imported from IATI that name the country, or a
// region containing it: who already funds what there.
func (s *Server) handleCountryExternal() fiber.Handler {
	return func(c *fiber.Ctx) error {
		items, err := s.deps.App.ExternalActivitiesIn(c.UserContext(), actor(c), c.Params("iso"))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

// handlePatchReadiness updates a country's readiness (its ministries, coordinators).
func (s *Server) handlePatchReadiness() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ifMatch, err := parseIfMatch(c)
		if err != nil {
			return err
		}
		var p service.ReadinessPatch
		if err := decode(c, &p); err != nil {
			return err
		}
		v, err := s.deps.App.Countries.PatchReadiness(c.UserContext(), actor(c), c.Params("iso"), p, ifMatch)
		if err != nil {
			return err
		}
		setETag(c, v.ReadinessVersion)
		return c.JSON(v)
	}
}

// handleCatalogue serves the vocabularies with labels in the language asked for (?lang= or
// Accept-Language), so that forms and filters never hard-code them.
func (s *Server) handleCatalogue() fiber.Handler {
	return func(c *fiber.Ctx) error {
		lang := c.Query("lang")
		if lang == "" {
			lang = c.AcceptsLanguages(models.SupportedLangs...)
		}
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
		c.Vary(fiber.HeaderAcceptLanguage)
		return c.JSON(models.Catalogue(lang))
	}
}
