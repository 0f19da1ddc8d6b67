// Package passwords hashes and verifies account passwords with argon2id from
// golang.org/x/crypto, in the PHC string format so parameters can be raised later without
// invalidating stored hashes.
package passwords

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/capmatch/capmatch/models"
	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. Defaults follow OWASP's minimum recommendation
// (19 MiB, 2 iterations, 1 lane).
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default is what new hashes use.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// MinLength is the shortest password accepted (the domain's rule).
const MinLength = models.PasswordMinLength

// hashing bounds how many argon2id computations run at once: each takes Default.Memory (19 MiB)
// for its duration, so a burst of sign-ins could otherwise exhaust a replica's memory. Callers
// beyond the bound wait their turn (sign-in is rate limited besides).
var hashing = make(chan struct{}, max(2, 2*runtime.NumCPU()))

// computations counts argon2id runs, so tests can check that every path does the same work.
var computations atomic.Int64

func argon2Key(password, salt []byte, p Params, keyLen uint32) []byte {
	computations.Add(1)
	hashing <- struct{}{}
	defer func() { <-hashing }()
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, keyLen)
}

// ErrMismatch means the password does not match the hash.
var ErrMismatch = errors.New("password mismatch")

// dummy is a hash of a random password, verified against when an account does not exist so that
// unknown e-mails and wrong passwords take the same time.
var dummy = func() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h, _ := Hash(base64.RawStdEncoding.EncodeToString(b))
	return h
}()

// Hash returns the PHC-format argon2id hash of password with a fresh salt.
func Hash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	p := Default
	key := argon2Key([]byte(password), salt, p, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify checks password against a PHC argon2id hash in constant time. An empty hash (unknown
// account) is checked against a dummy hash so that it costs the same and always fails.
func Verify(hash, password string) error {
	if hash == "" {
		_ = verify(dummy, password)
		return ErrMismatch
	}
	return verify(hash, password)
}

func verify(hash, password string) error {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return fmt.Errorf("passwords: unsupported hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return fmt.Errorf("passwords: unsupported argon2 version")
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return fmt.Errorf("passwords: bad parameters: %w", err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("passwords: bad salt: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return fmt.Errorf("passwords: bad key: %w", err)
	}
	got := argon2Key([]byte(password), salt, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// Argon2id is the models.Passwords port on this package: argon2id hashes with Default's
// parameters and Check's strength rules.
type Argon2id struct{}

// Hash implements models.Passwords.
func (Argon2id) Hash(password string) (string, error) { return Hash(password) }

// Verify implements models.Passwords.
func (Argon2id) Verify(hash, password string) error { return Verify(hash, password) }

// Check implements models.Passwords.
func (Argon2id) Check(password string, known ...string) error { return Check(password, known...) }
