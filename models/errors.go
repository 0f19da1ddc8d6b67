package models

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel error kinds. Every layer wraps one of these so that the HTTP layer can map an
// error to a status code in one place without knowing where it came from.
var (
	// ErrInvalid means the input broke a validation rule (HTTP 422).
	ErrInvalid = errors.New("invalid input")
	// ErrMalformed means the input could not be decoded at all (HTTP 400).
	ErrMalformed = errors.New("malformed input")
	// ErrUnauthorized means the caller is not authenticated (HTTP 401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden means the caller is authenticated but may not do this (HTTP 403).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound means the object does not exist or the caller may not know it exists (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a duplicate, a stale version or an illegal state change (HTTP 409).
	ErrConflict = errors.New("conflict")
	// ErrTooLarge means the request body exceeds the limit (HTTP 413).
	ErrTooLarge = errors.New("request too large")
	// ErrRateLimited means the caller must wait before trying again (HTTP 429).
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable means a backing store is down; the client may retry (HTTP 503).
	ErrUnavailable = errors.New("service unavailable")
	// ErrPasswordChangeRequired means the account must choose its own password before anything
	// else (HTTP 403 with its own problem type): someone else set the current one.
	ErrPasswordChangeRequired = errors.New("password change required")
)

// FieldError names one field that failed validation and why: a stable problem code (the
// Problem* constants) and its arguments, which the edges render as Message in the reader's
// language (package i18n). The domain leaves Message empty; an edge fills it before the
// error leaves the process.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Args    Args   `json:"args,omitempty"`
	Message string `json:"message"`
}

// Error is a domain error with a client-safe detail. Kind is one of the sentinels above, so
// errors.Is(err, ErrNotFound) works through any amount of %w wrapping.
type Error struct {
	Kind       error
	Detail     string
	Fields     []FieldError
	RetryAfter time.Duration
	// Code and Args, when set, say what went wrong as a stable code and its arguments, for
	// clients and translations (Detail words it in English); e.g. ConflictStatusMove.
	Code string
	Args Args
}

// Codes of errors other than field problems, for the edges to say in the reader's language.
const (
	// ConflictStatusMove: a project's lifecycle does not allow the move; from, to (int: IATI
	// activity status codes).
	ConflictStatusMove = "status_move"
	// ConflictResultsMissing: a project cannot close before its results are recorded.
	ConflictResultsMissing = "results_missing"
)

// Error implements error.
func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Kind.Error()
	}
	return e.Kind.Error() + ": " + e.Detail
}

// Unwrap lets errors.Is match the sentinel kind.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf builds a domain error of the given kind with a formatted, client-safe detail.
func Errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Problems collects field errors so that a validator can report every problem at once
// instead of stopping at the first.
type Problems []FieldError

// Add records a problem with a field: a problem code (the Problem* constants) and its
// arguments (nil when it has none).
func (p *Problems) Add(field, code string, args Args) {
	*p = append(*p, FieldError{Field: field, Code: code, Args: args})
}

// Err returns nil when there are no problems, else an ErrInvalid domain error listing them.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Kind: ErrInvalid, Detail: fmt.Sprintf("%d field(s) failed validation", len(p)), Fields: p}
}

// Invalid is the ErrInvalid error of one field's problem (HTTP 422).
func Invalid(field, code string, args Args) *Error {
	return &Error{Kind: ErrInvalid, Detail: "1 field(s) failed validation", Fields: []FieldError{{Field: field, Code: code, Args: args}}}
}
