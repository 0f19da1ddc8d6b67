// Package api is capmatch's HTTP layer: the Fiber application, its middleware, the route table,
// the OpenAPI document and one handler file per resource. Handlers decode, validate, call the
// domain and respond; every error leaves through one error handler as problem+json.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// BodyLimit is the largest request body accepted, except by the routes that stream their body
// (POST /api/v1/import/iati, see IATIImportMaxBytes); larger bodies get a 413.
const BodyLimit = 1 << 20

// DefaultIATIImportMaxBytes bounds an IATI activity file sent to POST /api/v1/import/iati when
// Deps.IATIImportMaxBytes is zero (CAPMATCH_IATI_IMPORT_MAX_MB).
const DefaultIATIImportMaxBytes = 256 << 20

// Pinger is a dependency that readiness checks: the store or the cache.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Check is one named readiness dependency.
type Check struct {
	Name string
	Ping Pinger
}

// Deps are what the HTTP layer needs from the rest of the program. main builds them.
type Deps struct {
	Log     *slog.Logger
	Version string
	// Checks are pinged by /readyz; a failing one is named in the 503.
	Checks []Check
	// App holds the use cases (sign-in, accounts, needs, offers, countries, ...).
	App *service.App
	// IATIImportMaxBytes bounds the (streamed) body of POST /api/v1/import/iati; zero means
	// DefaultIATIImportMaxBytes. Every other route keeps BodyLimit.
	IATIImportMaxBytes int64
	// AnswerCacheBytes bounds the rendered ranking answers kept in memory (answers.go); zero
	// means DefaultAnswerCacheBytes, a negative value keeps none (the answers are rendered for
	// each request, as before the cache: benchmarks compare the two).
	AnswerCacheBytes int64
}

// Server is the HTTP server: a Fiber app plus the readiness state that shutdown flips.
type Server struct {
	app      *fiber.App
	deps     Deps
	draining atomic.Bool
	metrics  *metrics
	// answers keeps rendered ranking answers (answers.go).
	answers *answerCache
}

// New builds the Fiber application with its middleware and routes.
func New(d Deps) *Server {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.IATIImportMaxBytes <= 0 {
		d.IATIImportMaxBytes = DefaultIATIImportMaxBytes
	}
	s := &Server{deps: d, metrics: newMetrics(), answers: newAnswerCache(d.AnswerCacheBytes)}
	s.metrics.reg.MustRegister(s.answers.collectors()...)
	s.app = fiber.New(fiber.Config{
		AppName:   "capmatch",
		BodyLimit: BodyLimit,
		// Bodies are streamed, so that an IATI import of hundreds of MB is read as it arrives
		// instead of being held in memory; limitBody (middleware.go) reads every other body
		// up to BodyLimit before any handler runs. Multipart forms are parsed from that read
		// body, never spooled by the server beforehand.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  15 * time.Second,
		WriteTimeout:                 30 * time.Second,
		IdleTimeout:                  120 * time.Second,
		ErrorHandler:                 errorHandler(d.Log),
		// Fiber's default hands out strings that point into buffers it reuses for the next
		// request; anything kept beyond the request (the read model, caches, rate-limit keys)
		// would change under our feet. Immutable copies them.
		Immutable:             true,
		DisableStartupMessage: true,
		JSONEncoder:           json.Marshal,
		JSONDecoder:           json.Unmarshal,
		ReadBufferSize:        16 << 10,
		// A path is answered only as the route table writes it: "/API/V1/NEEDS" and
		// "/api/v1/needs/" are 404, so that one resource has one URL (caches, ETags, audit
		// and metrics by route) and the OpenAPI document describes every path served.
		StrictRouting: true,
		CaseSensitive: true,
	})
	// While shutting down, answer with Connection: close. Otherwise a keep-alive client that got
	// its response reuses the connection the server is about to close, and its next request
	// fails with EOF although no handler ever saw it: a POST cannot tell whether it happened.
	s.app.Server().CloseOnShutdown = true
	s.routes(s.app)
	return s
}

// App exposes the Fiber application, for tests (app.Test) and for the listener in main.
func (s *Server) App() *fiber.App { return s.app }

// Drain makes readiness answer 503 so that load balancers stop sending traffic before the
// listener closes.
func (s *Server) Drain() { s.draining.Store(true) }

// Listen serves on addr until Shutdown.
func (s *Server) Listen(addr string) error { return s.app.Listen(addr) }

// Shutdown stops accepting connections and waits up to timeout for in-flight requests.
func (s *Server) Shutdown(timeout time.Duration) error {
	s.Drain()
	return s.app.ShutdownWithTimeout(timeout)
}
