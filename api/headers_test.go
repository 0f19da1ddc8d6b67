package api

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVaryListsEachFieldOnce: the hot-path header helpers write one Vary header that names each
// field once, after any field another handler or middleware listed first, and set headers as given.
func TestVaryListsEachFieldOnce(t *testing.T) {
	app := fiber.New()
	app.Get("/", func(c *fiber.Ctx) error {
		if c.Query("origin") != "" {
			c.Vary(fiber.HeaderOrigin)
		}
		vary(c, fiber.HeaderAcceptLanguage)
		vary(c, fiber.HeaderAcceptEncoding)
		vary(c, fiber.HeaderAcceptLanguage)
		vary(c, "accept-encoding")
		setHeader(c, fiber.HeaderContentLanguage, "fr")
		setHeader(c, fiber.HeaderContentLanguage, "es")
		return nil
	})
	for _, tc := range []struct{ path, want string }{
		{"/", "Accept-Language, Accept-Encoding"},
		{"/?origin=1", "Origin, Accept-Language, Accept-Encoding"},
	} {
		res, err := app.Test(httptest.NewRequest("GET", tc.path, nil))
		require.NoError(t, err)
		assert.Equal(t, []string{tc.want}, res.Header.Values("Vary"), tc.path)
		assert.Equal(t, []string{"es"}, res.Header.Values("Content-Language"), "set replaces")
	}
}
