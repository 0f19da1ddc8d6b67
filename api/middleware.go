package api

import (
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
)

// contentSecurityPolicy allows only what the binary serves itself: no CDN, no inline script.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// middleware installs the stack every request passes through, outermost first: request id,
// access log and metrics (so they see the final status), panic recovery, security headers,
// compression and the body limit.
func (s *Server) middleware(app *fiber.App) {
	app.Use(requestid.New())
	app.Use(s.accessLog)
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		s.deps.Log.Error("panic", "panic", e, "request_id", requestID(c), "path", c.Path())
	}}))
	app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy:     contentSecurityPolicy,
		ReferrerPolicy:            "strict-origin-when-cross-origin",
		CrossOriginEmbedderPolicy: "unsafe-none",
		HSTSMaxAge:                31536000,
	}))
	app.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed}))
	app.Use(limitBody(BodyLimit, isStreamedRoute))
}

// isStreamedRoute reports whether a request's route reads its body as a stream, with its own
// limit, instead of through limitBody: POST /api/v1/import/iati, named exactly (any other
// spelling that the router would also send there is limited like every route, the safe side).
func isStreamedRoute(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && c.Path() == iatiImportPath
}

// limitBody reads the body of every request but the streamed routes, up to limit bytes, before
// any handler runs, and refuses a larger one with 413: at once when Content-Length announces
// it, else as soon as more than limit bytes arrive (chunked bodies). The server streams bodies
// (fiber.Config.StreamRequestBody) for the IATI import; without this, a handler reading the
// body of another route would read it whole, whatever its size.
func limitBody(limit int, streamed func(*fiber.Ctx) bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if streamed(c) {
			return c.Next()
		}
		req := c.Request()
		if req.Header.ContentLength() > limit {
			return fiber.ErrRequestEntityTooLarge
		}
		if rs := c.Context().RequestBodyStream(); rs != nil {
			body, err := io.ReadAll(io.LimitReader(rs, int64(limit)+1))
			if err != nil {
				return malformed("the request body could not be read")
			}
			if len(body) > limit {
				return fiber.ErrRequestEntityTooLarge
			}
			req.SetBodyRaw(body)
		}
		return c.Next()
	}
}

// requestID returns the id the requestid middleware gave the request.
func requestID(c *fiber.Ctx) string {
	if v, ok := c.Locals(requestid.ConfigDefault.ContextKey).(string); ok {
		return v
	}
	return ""
}

// accessLog writes one structured line per request and records its metrics. It runs the
// error handler itself so that the logged status is the one the client receives.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	c.SetUserContext(models.WithRequestID(c.UserContext(), requestID(c)))
	err := c.Next()
	if err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	route := "unmatched"
	if status != fiber.StatusNotFound || err == nil {
		route = c.Route().Path
	}
	elapsed := time.Since(start)
	// Fiber's strings point into buffers it reuses for the next request; the metrics keep their
	// labels, so they get copies.
	s.metrics.observe(strings.Clone(c.Method()), strings.Clone(route), status, elapsed)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.deps.Log.LogAttrs(c.UserContext(), level, "request",
		slog.String("method", c.Method()),
		slog.String("path", c.Path()),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.Int("bytes", len(c.Response().Body())),
		slog.String("ip", c.IP()),
		slog.String("request_id", requestID(c)),
	)
	return nil
}
