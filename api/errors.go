package api

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// Problem is an RFC 9457 problem document: every 4xx and 5xx body capmatch sends.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	Errors    []models.FieldError `json:"errors,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
	// Checks names the state of each dependency on a failed readiness probe.
	Checks map[string]string `json:"checks,omitempty"`
	// Code and Args say what went wrong as a stable code and its arguments, when the domain
	// gives them (e.g. why an IATI file cannot be imported).
	Code string      `json:"code,omitempty"`
	Args models.Args `json:"args,omitempty"`
}

// problemTypes gives each status a stable type URI that clients can switch on.
var problemTypes = map[int]string{
	400: "urn:capmatch:problem:malformed",
	401: "urn:capmatch:problem:unauthorized",
	403: "urn:capmatch:problem:forbidden",
	404: "urn:capmatch:problem:not-found",
	405: "urn:capmatch:problem:method-not-allowed",
	409: "urn:capmatch:problem:conflict",
	413: "urn:capmatch:problem:too-large",
	415: "urn:capmatch:problem:unsupported-media-type",
	422: "urn:capmatch:problem:validation",
	429: "urn:capmatch:problem:rate-limited",
	500: "urn:capmatch:problem:internal",
	503: "urn:capmatch:problem:unavailable",
}

// kindStatus maps the domain's sentinel errors to HTTP status codes: the one place where
// domain errors become HTTP.
var kindStatus = []struct {
	kind   error
	status int
}{
	{models.ErrMalformed, 400},
	{models.ErrUnauthorized, 401},
	{models.ErrPasswordChangeRequired, 403},
	{models.ErrForbidden, 403},
	{models.ErrNotFound, 404},
	{models.ErrConflict, 409},
	{models.ErrTooLarge, 413},
	{models.ErrInvalid, 422},
	{models.ErrRateLimited, 429},
	{models.ErrUnavailable, 503},
}

// toProblem turns any error into a problem document. Unknown errors become a 500 whose detail
// never leaks internals; the caller logs them.
func toProblem(err error) Problem {
	p := Problem{Status: 500, Title: http.StatusText(500), Detail: "an unexpected error occurred; it has been logged"}
	var fe *fiber.Error
	var de *models.Error
	switch {
	case errors.As(err, &fe):
		p.Status = fe.Code
		p.Title = http.StatusText(fe.Code)
		p.Detail = fe.Message
		if fe.Code == 413 {
			p.Detail = "the request body exceeds the limit of 1 MiB"
		}
		if fe.Code >= 500 {
			p.Detail = "an unexpected error occurred; it has been logged"
		}
	default:
		for _, ks := range kindStatus {
			if errors.Is(err, ks.kind) {
				p.Status = ks.status
				p.Title = http.StatusText(ks.status)
				p.Detail = ks.kind.Error()
				break
			}
		}
		if errors.As(err, &de) && p.Status != 500 {
			if de.Detail != "" {
				p.Detail = de.Detail
			}
			p.Errors = de.Fields
			p.Code, p.Args = de.Code, de.Args
		}
	}
	if errors.Is(err, models.ErrPasswordChangeRequired) {
		p.Type = "urn:capmatch:problem:password-change-required"
	} else if t, ok := problemTypes[p.Status]; ok {
		p.Type = t
	} else {
		p.Type = "about:blank"
	}
	return p
}

// retryAfter tells a client when to try again after a 429 or 503.
func retryAfter(err error, status int) string {
	var de *models.Error
	if errors.As(err, &de) && de.RetryAfter > 0 {
		return strconv.Itoa(int(math.Ceil(de.RetryAfter.Seconds())))
	}
	if status == 503 || status == 429 {
		return "5"
	}
	return ""
}

// errorHandler is Fiber's single error handler: every error a handler or middleware returns,
// and every unknown route, ends here and leaves as application/problem+json. Each field
// problem's message is written in the caller's language, next to its code and arguments.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		p := toProblem(err)
		if len(p.Errors) > 0 {
			p.Errors = localizer(c).FieldErrors(p.Errors)
		}
		p.Instance = c.Path()
		p.RequestID = requestID(c)
		if p.Status >= 500 && p.Status != 503 {
			log.ErrorContext(c.UserContext(), "request failed", "err", err, "request_id", p.RequestID, "path", c.Path())
		}
		if ra := retryAfter(err, p.Status); ra != "" {
			c.Set(fiber.HeaderRetryAfter, ra)
		}
		return writeProblem(c, p)
	}
}

func writeProblem(c *fiber.Ctx, p Problem) error {
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	b, err := c.App().Config().JSONEncoder(p)
	if err != nil {
		return err
	}
	return c.Send(b)
}
