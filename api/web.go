package api

import (
	"io/fs"
	"net/http"

	"github.com/capmatch/capmatch/web"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// handleHome serves the UI's start page.
func (s *Server) handleHome() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := fs.ReadFile(web.Static(), "index.html")
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(b)
	}
}

// webAssets serves the UI's static files from the binary.
func webAssets() fiber.Handler {
	return filesystem.New(filesystem.Config{Root: http.FS(web.Static()), MaxAge: 3600})
}
