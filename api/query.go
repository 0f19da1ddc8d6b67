package api

import (
	"strconv"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// queryLimit reads ?limit=, defaulting to def and rejecting values outside 1..max with a 422.
func queryLimit(c *fiber.Ctx, def, max int) (int, error) {
	raw := utils.UnsafeString(c.Request().URI().QueryArgs().Peek("limit")) // read in place: nothing keeps it
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		e := models.Invalid("limit", models.ProblemRange, models.Args{"min": models.ArgInt(1), "max": models.ArgInt(max)})
		e.Detail = "bad limit"
		return 0, e
	}
	return n, nil
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
