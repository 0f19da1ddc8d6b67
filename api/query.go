package api

import (
	"strconv"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// queryLimit reads ?limit=, defaulting to def and rejecting values outside 1..max with a 422.
func queryLimit(c *fiber.Ctx, def, max int) (int, error) {
	raw := c.Query("limit")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		return 0, &models.Error{Kind: models.ErrInvalid, Detail: "bad limit",
			Fields: []models.FieldError{{Field: "limit", Message: "must be a whole number from 1 to " + strconv.Itoa(max)}}}
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
