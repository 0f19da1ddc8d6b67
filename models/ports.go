package models

import (
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

// ErrWeakPassword is the kind of a refusal of Passwords.Check; the error's text after
// "weak password: " says what to do and never repeats the password.
var ErrWeakPassword = errors.New("weak password")

// Passwords hashes and verifies account passwords and judges new ones. The argon2id adapter
// (adapters/passwords) implements it.
type Passwords interface {
	// Hash returns a self-describing hash of password with a fresh salt.
	Hash(password string) (string, error)
	// Verify reports nil when password matches hash. An empty hash (no such account) costs the
	// same as a real one and never matches, so that unknown e-mails cannot be told apart.
	Verify(hash, password string) error
	// Check refuses a password that is too short, too long or too easy to guess (an error
	// wrapping ErrWeakPassword); known are the user's own words (e-mail address, name).
	Check(password string, known ...string) error
}

// ActivityExporter writes projects as an open aid-data document (IATI 2.03 activities). The
// IATI adapter (adapters/iati) implements it, configured with the publishing organization.
type ActivityExporter interface {
	// Export writes one document with an activity per project; orgs names the organizations the
	// projects refer to. It returns an error wrapping ErrNotFound, and writes nothing, when
	// there is no project (an empty document would not be valid).
	Export(w io.Writer, projects []*Project, orgs map[string]*Organization, generatedAt time.Time) error
}
