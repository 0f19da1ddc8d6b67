package api

import "github.com/gofiber/fiber/v2"

// routes is the whole route table, in one place, so that what the server answers can be read
// top to bottom. The OpenAPI test fails when a route here is missing from openapi.yaml.
func (s *Server) routes(app *fiber.App) {
	s.middleware(app)

	app.Get("/healthz", s.handleHealthz())
	app.Get("/readyz", s.handleReadyz())
	app.Get("/metrics", s.handleMetrics())
	app.Get("/docs", s.handleDocs())
	app.Use("/docs/assets", docsAssets())

	v1 := app.Group("/api/v1")
	v1.Get("/openapi.json", s.handleOpenAPI())

	app.Get("/", s.handleHome())
	app.Use("/static", webAssets())
}
