package api

import (
	"net/url"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// requestLang is the language a request asks for: ?lang=, else Accept-Language.
func requestLang(c *fiber.Ctx) string {
	if l := c.Query("lang"); l != "" {
		return models.NormalizeLang(l)
	}
	return models.NormalizeLang(c.AcceptsLanguages(models.SupportedLangs...))
}

// handleQuestionnaire serves the current self-assessment questionnaire in the language asked
// for (public: the questions are no secret, the answers are).
func (s *Server) handleQuestionnaire() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
		c.Vary(fiber.HeaderAcceptLanguage)
		return c.JSON(s.deps.App.Assessments.Questionnaire(requestLang(c)))
	}
}

// handleListAssessments lists a country's self-assessments, newest first.
func (s *Server) handleListAssessments() fiber.Handler {
	return func(c *fiber.Ctx) error {
		items, err := s.deps.App.Assessments.List(c.UserContext(), actor(c), c.Params("iso"))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

// handleSubmitAssessment stores a new self-assessment of a country and answers it with its
// results and the needs it proposed.
func (s *Server) handleSubmitAssessment() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in service.AssessmentInput
		if err := decode(c, &in); err != nil {
			return err
		}
		v, err := s.deps.App.Assessments.Submit(c.UserContext(), actor(c), c.Params("iso"), in, requestLang(c))
		if err != nil {
			return err
		}
		c.Location("/api/v1/countries/" + v.Country + "/assessments/" + url.PathEscape(v.ID))
		return c.Status(fiber.StatusCreated).JSON(v)
	}
}

// handleGetAssessment returns one self-assessment with its results.
func (s *Server) handleGetAssessment() fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := s.deps.App.Assessments.Get(c.UserContext(), actor(c), c.Params("iso"), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

// handleProposeFromAssessment creates the proposed needs of the latest assessment that do not
// exist yet (idempotent).
func (s *Server) handleProposeFromAssessment() fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := s.deps.App.Assessments.Propose(c.UserContext(), actor(c), c.Params("iso"), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

// handleReadinessHistory lists every change of a country's readiness, newest first.
func (s *Server) handleReadinessHistory() fiber.Handler {
	return func(c *fiber.Ctx) error {
		h, err := s.deps.App.Countries.ReadinessHistory(c.UserContext(), actor(c), c.Params("iso"))
		if err != nil {
			return err
		}
		return c.JSON(h)
	}
}

// handleAddSource adds a document or link to a country's profile.
func (s *Server) handleAddSource() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in service.SourceInput
		if err := decode(c, &in); err != nil {
			return err
		}
		src, err := s.deps.App.Countries.AddSource(c.UserContext(), actor(c), c.Params("iso"), in)
		if err != nil {
			return err
		}
		setETag(c, src.Version)
		return c.Status(fiber.StatusCreated).JSON(src)
	}
}

// handlePatchSource edits one of a country's sources.
func (s *Server) handlePatchSource() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ifMatch, err := parseIfMatch(c)
		if err != nil {
			return err
		}
		var p service.SourcePatch
		if err := decode(c, &p); err != nil {
			return err
		}
		src, err := s.deps.App.Countries.PatchSource(c.UserContext(), actor(c), c.Params("iso"), c.Params("id"), p, ifMatch)
		if err != nil {
			return err
		}
		setETag(c, src.Version)
		return c.JSON(src)
	}
}

// handleDeleteSource removes one of a country's sources.
func (s *Server) handleDeleteSource() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.deps.App.Countries.DeleteSource(c.UserContext(), actor(c), c.Params("iso"), c.Params("id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}
