package api

import (
	"embed"
	"encoding/json"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var openapiYAML []byte

// openapiJSON is the OpenAPI document converted once from the YAML source kept in the repo
// (YAML is easier to review; clients get JSON).
var openapiJSON = mustYAMLToJSON(openapiYAML)

func mustYAMLToJSON(src []byte) []byte {
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		panic("api: openapi.yaml is not valid YAML: " + err.Error())
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic("api: openapi.yaml does not convert to JSON: " + err.Error())
	}
	return b
}

//go:embed docs/index.html docs/init.js docs/swagger-ui-bundle.js docs/swagger-ui.css
var docsFS embed.FS

// OpenAPI returns the embedded OpenAPI document, for tests and tools.
func OpenAPI() []byte { return openapiJSON }

// handleOpenAPI serves the OpenAPI 3 document that describes every endpoint.
func (s *Server) handleOpenAPI() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		c.Set(fiber.HeaderCacheControl, "no-cache")
		return c.Send(openapiJSON)
	}
}

// handleDocs serves the documentation page; its assets come from the binary, never a CDN.
func (s *Server) handleDocs() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := docsFS.ReadFile("docs/index.html")
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(b)
	}
}

// docsAssets serves the Swagger UI files embedded in the binary.
func docsAssets() fiber.Handler {
	return filesystem.New(filesystem.Config{
		Root:       http.FS(docsFS),
		PathPrefix: "docs",
		MaxAge:     86400,
	})
}
