package models

import (
	"context"
	"errors"
	"io"
	"time"
)

// This file holds the ports the application layer needs beyond the store (store.go) and the
// event bus and rate limiter (events.go): each is implemented by one adapter package and wired
// in by cmd/capmatch, so that the use cases never import a driver or a library of their own.

// The password rules every adapter applies: long enough to be a passphrase, short enough that
// hashing it is never a denial of service.
const (
	PasswordMinLength = 12
	PasswordMaxBytes  = 1024
)

// ErrWeakPassword is the kind of a refusal of Passwords.Check (a *WeakPasswordError), which
// never repeats the password.
var ErrWeakPassword = errors.New("weak password")

// WeakPasswordError is a refusal of Passwords.Check: why, as a problem code (ProblemPassword*)
// and its arguments, for the field the password was given in.
type WeakPasswordError struct {
	Code string
	Args Args
}

// Error implements error.
func (e *WeakPasswordError) Error() string { return ErrWeakPassword.Error() + ": " + e.Code }

// Unwrap makes errors.Is(err, ErrWeakPassword) hold.
func (e *WeakPasswordError) Unwrap() error { return ErrWeakPassword }

// Passwords hashes and verifies account passwords and judges new ones. The argon2id adapter
// (adapters/passwords) implements it.
type Passwords interface {
	// Hash returns a self-describing hash of password with a fresh salt.
	Hash(password string) (string, error)
	// Verify reports nil when password matches hash. An empty hash (no such account) costs the
	// same as a real one and never matches, so that unknown e-mails cannot be told apart.
	Verify(hash, password string) error
	// Check refuses a password that is too short, too long or too easy to guess (a
	// *WeakPasswordError); known are the user's own words (e-mail address, name).
	Check(password string, known ...string) error
}

// ActivityExporter writes projects as an open aid-data document (IATI 2.03 activities). The
// IATI adapter (adapters/iati) implements it, configured with the publishing organization.
type ActivityExporter interface {
	// Export writes one document with an activity per project; orgs names the organizations the
	// projects refer to; baseURL is the deployment's public address, for absolute URLs in the
	// document. It returns an error wrapping ErrNotFound, and writes nothing, when there is no
	// project (an empty document would not be valid).
	Export(w io.Writer, projects []*Project, orgs map[string]*Organization, generatedAt time.Time, baseURL string) error
	// Identifier is the identifier a project is published under (the publisher's reference
	// prefixes it), for open data that links to the export.
	Identifier(p *Project) string
	// ValidOrgType reports whether code is an organisation type of the standard's code list,
	// for an organization's declared type.
	ValidOrgType(code string) bool
}

// Texts writes coded messages as text in a language; the catalog (package i18n) implements it.
// The use cases hand out codes and arguments and leave the words to the edges; they ask for
// words only where they write text out themselves: the English text of webhook deliveries.
type Texts interface {
	// Reason is a match factor's reason (a matching reason code and its arguments) in lang.
	Reason(lang, code string, args Args) string
	// Notice is a notification's text in lang.
	Notice(lang string, n *Notification) string
}

// Webhooks delivers notifications to organizations' webhooks off the request path and holds the
// SSRF policy their URLs follow. The webhook adapter (adapters/webhooks) implements it, so that
// the application layer keeps no HTTP client of its own.
type Webhooks interface {
	// Enqueue queues a notification's delivery to url, signed with secret, without ever
	// waiting: a delivery that finds the queue full is dropped (and counted).
	Enqueue(url, secret string, n Notification)
	// CheckURL applies the SSRF policy to a webhook URL as far as it can be checked before
	// delivery. A refusal is an ErrInvalid *Error naming field "url" (a ProblemURL* code).
	CheckURL(raw string) error
	// Stats returns the delivery counters, for /metrics and tests.
	Stats() WebhookStats
	// Run delivers until ctx ends; what is still queued then is lost (the queue is in memory).
	Run(ctx context.Context)
}

// WebhookStats counts webhook deliveries since start. Queued counts notifications handed to
// delivery (each ends as one of Delivered, Failed or Dropped), so that an operator (and a test)
// can tell "nothing was sent" from "not sent yet"; Retried counts tries scheduled again.
type WebhookStats struct {
	Queued, Delivered, Failed, Retried, Dropped int64
}
