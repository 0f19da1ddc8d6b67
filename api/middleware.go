package api

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
)

// contentSecurityPolicy allows only what the binary serves itself: no CDN, no inline script.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// middleware installs the stack every request passes through, outermost first: request id,
// access log and metrics (so they see the final status), panic recovery, security headers,
// compression and the body limit.
func (s *Server) middleware(app *fiber.App) {
	app.Use(requestIDs)
	app.Use(s.accessLog)
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		s.deps.Log.Error("panic", "panic", e, "request_id", requestID(c), "path", logPath(c.Path()))
	}}))
	app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy:     contentSecurityPolicy,
		ReferrerPolicy:            "strict-origin-when-cross-origin",
		CrossOriginEmbedderPolicy: "unsafe-none",
		HSTSMaxAge:                31536000,
	}))
	// The ranking answers are kept compressed and name each form in their ETag (answers.go).
	app.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed, Next: ownsEncoding}))
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

// requestIDLocal is where a request's id is kept in its locals; the web UI reads it under
// this name for its error page.
const requestIDLocal = "requestid"

// correlationIDLocal is where a client's valid correlation id is kept in the locals.
const correlationIDLocal = "correlationid"

// HeaderCorrelationID carries a client's own id for a request back to it.
const HeaderCorrelationID = "X-Correlation-Id"

// maxCorrelationID bounds the client ids kept: a UUID (36) or a W3C trace id (32) fits.
const maxCorrelationID = 64

// requestIDs gives every request an id drawn at random by the server (a UUID v4 from
// crypto/rand), answered in X-Request-Id and used by the logs, problem bodies and the audit
// trail. A client's own id (X-Correlation-Id, else X-Request-Id) is never that id: a client
// could otherwise file its actions under another request's id in the audit trail. When it is
// short and made of safe characters it is kept as a separate correlation id (echoed in
// X-Correlation-Id, logged and audited beside the request id); otherwise it is ignored.
func requestIDs(c *fiber.Ctx) error {
	id := newRequestID()
	c.Locals(requestIDLocal, id)
	c.Set(fiber.HeaderXRequestID, id)
	cid := c.Get(HeaderCorrelationID)
	if cid == "" {
		cid = c.Get(fiber.HeaderXRequestID)
	}
	if validCorrelationID(cid) {
		cid = strings.Clone(cid) // Fiber's strings point into a buffer it reuses
		c.Locals(correlationIDLocal, cid)
		c.Set(HeaderCorrelationID, cid)
	}
	return c.Next()
}

// newRequestID returns a random UUID v4.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// validCorrelationID accepts 1 to 64 characters of A-Z, a-z, 0-9, '-', '_', '.' and ':', which
// covers UUIDs and trace ids and cannot smuggle anything into a header, a log line or a page.
func validCorrelationID(s string) bool {
	if s == "" || len(s) > maxCorrelationID {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.' || ch == ':') {
			return false
		}
	}
	return true
}

// requestID returns the id the server gave the request.
func requestID(c *fiber.Ctx) string {
	if v, ok := c.Locals(requestIDLocal).(string); ok {
		return v
	}
	return ""
}

// correlationID returns the client's valid correlation id, or "".
func correlationID(c *fiber.Ctx) string {
	v, _ := c.Locals(correlationIDLocal).(string)
	return v
}

// logPath is the path the access log records: an acknowledgement link's token is a
// capability (whoever holds it acknowledges for a Point of Contact), so it is left out.
func logPath(p string) string {
	if strings.HasPrefix(p, "/ack/") {
		return "/ack/[token]"
	}
	return p
}

// accessLog writes one structured line per request and records its metrics. It runs the
// error handler itself so that the logged status is the one the client receives.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	ctx := models.WithRequestID(c.UserContext(), requestID(c))
	if cid := correlationID(c); cid != "" {
		ctx = models.WithCorrelationID(ctx, cid)
	}
	c.SetUserContext(ctx)
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
		slog.String("path", logPath(c.Path())),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.Int("bytes", len(c.Response().Body())),
		slog.String("ip", c.IP()),
		slog.String("request_id", requestID(c)),
		slog.String("correlation_id", correlationID(c)),
	)
	return nil
}
