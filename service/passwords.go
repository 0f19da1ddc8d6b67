package service

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
)

// checkPassword applies the password rules (the Passwords port: length, and a guess estimate
// with the user's own e-mail and name as known words) and records a refusal against field.
func checkPassword(pw models.Passwords, field, password, email, name string, p *models.Problems) {
	err := pw.Check(password, email, name)
	var weak *models.WeakPasswordError
	switch {
	case errors.As(err, &weak):
		p.Add(field, weak.Code, weak.Args)
	case err != nil:
		p.Add(field, models.ProblemPasswordWeak, nil)
	}
}

// PasswordGate refuses everything to an account that must still choose its own password (its
// current one was set by someone else): ErrPasswordChangeRequired, until it changes it. Only
// tokens issued while the change was due carry the mark, so other sessions cost nothing; a
// marked one costs a read of the user by id until it is refreshed after the change.
func (s *Auth) PasswordGate(ctx context.Context, a *models.Actor) error {
	if a == nil || !a.MustChangePassword {
		return nil
	}
	u, err := s.users.GetUser(ctx, a.UserID)
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return models.Errorf(models.ErrUnauthorized, "the session has ended; sign in again")
		}
		return err
	}
	if u.MustChangePassword {
		return &models.Error{Kind: models.ErrPasswordChangeRequired,
			Detail: "your password was set by someone else: choose your own first (POST /api/v1/me/password)"}
	}
	return nil
}

// ChangePassword replaces the caller's password after checking the current one, and ends
// every other session of the account (the one that changed it goes on). A wrong current
// password counts as a failed sign-in of that account from clientIP (same back-off).
func (s *Auth) ChangePassword(ctx context.Context, a *models.Actor, current, next, clientIP string) error {
	u, err := s.users.GetUser(ctx, a.UserID)
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return models.Errorf(models.ErrUnauthorized, "the session has ended; sign in again")
		}
		return err
	}
	acctKey := loginAccountKey(u.EmailKey, clientIP)
	if err := s.waitLimits(ctx, acctKey); err != nil {
		return err
	}
	var p models.Problems
	if current == "" {
		p.Add("current_password", models.ProblemRequired, nil)
	}
	checkPassword(s.passwords, "new_password", next, u.Email, u.Name, &p)
	if next != "" && next == current {
		p.Add("new_password", models.ProblemPasswordSame, nil)
	}
	if err := p.Err(); err != nil {
		return err
	}
	if len(current) > models.PasswordMaxBytes || s.passwords.Verify(u.PasswordHash, current) != nil {
		s.failed(ctx, acctKey, LoginAccountBackoff)
		return &models.Error{Kind: models.ErrInvalid, Detail: "the current password is wrong",
			Fields: []models.FieldError{{Field: "current_password", Code: models.ProblemPasswordWrong}}}
	}
	if err := s.setPassword(ctx, u, next); err != nil {
		return err
	}
	now := s.now().UTC()
	if err := s.putRevocation(ctx, models.Revocation{ID: models.RevokedUserKey(u.ID), Reason: "password changed",
		At: now, ExpiresAt: now.Add(models.RefreshTokenTTL), Except: a.FamilyID}); err != nil {
		return fmt.Errorf("end other sessions: %w", err)
	}
	if err := s.users.DeletePasswordReset(ctx, u.ID); err != nil {
		s.log.WarnContext(ctx, "pending reset link not removed after a password change", "err", err, "user_id", u.ID)
	}
	s.cleared(ctx, acctKey)
	audit(ctx, s.audit, s.log, now, a, "password_change", "user", u.ID, []string{"password"})
	return nil
}

// setPassword stores a new hash for u and clears its must-change mark, retrying once on a
// concurrent change of the account (a disable, say) with a fresh read.
func (s *Auth) setPassword(ctx context.Context, u *models.User, password string) error {
	hash, err := s.passwords.Hash(password)
	if err != nil {
		return err
	}
	for try := 0; ; try++ {
		_, err = s.users.SetUserPassword(ctx, u.ID, u.Version, hash, false, s.now().UTC())
		s.me.drop(u.ID)
		if !errors.Is(err, models.ErrConflict) || try == 2 {
			return err
		}
		if u, err = s.users.GetUser(ctx, u.ID); err != nil {
			return err
		}
	}
}

// PasswordResetLink is a one-time link to set a password without signing in, as issued to a
// coordinator or admin, who passes it on to the user. Token is shown once: only its hash is kept.
type PasswordResetLink struct {
	UserID    string    `json:"user_id"`
	Token     string    `json:"token"`
	Path      string    `json:"path"`
	ExpiresAt time.Time `json:"expires_at"`
}

// IssuePasswordReset creates a one-time reset link for a user, replacing any earlier one, for
// the coordinators and admins who may manage that user's role. It does not change the current
// password: the link does, when its owner uses it.
func (s *Accounts) IssuePasswordReset(ctx context.Context, a *models.Actor, userID string) (*PasswordResetLink, error) {
	target, err := s.GetUser(ctx, a, userID)
	if err != nil {
		return nil, err
	}
	if err := models.AuthorizeAccounts(a, models.ActManage, target.Role); err != nil {
		return nil, err
	}
	if target.Disabled {
		return nil, models.Errorf(models.ErrConflict, "the account is disabled; enable it first")
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("reset token: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now().UTC()
	r := &models.PasswordReset{UserID: target.ID, Hash: hashToken(secret), CreatedBy: a.UserID, CreatedAt: now,
		ExpiresAt: now.Add(models.PasswordResetTTL)}
	if err := s.users.PutPasswordReset(ctx, r); err != nil {
		return nil, err
	}
	audit(ctx, s.audit, s.log, now, a, "password_reset_issued", "user", target.ID, nil)
	token := target.ID + "." + secret
	return &PasswordResetLink{UserID: target.ID, Token: token, Path: "/reset?" + url.Values{"token": {token}}.Encode(),
		ExpiresAt: r.ExpiresAt}, nil
}

// errResetLink is the one answer for every unusable reset link (unknown, malformed, used,
// replaced, expired, or for a disabled account), so that a link's answer says nothing more.
var errResetLink = &models.Error{Kind: models.ErrInvalid, Detail: "this password reset link is not valid or has expired; ask a coordinator for a new one",
	Fields: []models.FieldError{{Field: "token", Code: models.ProblemTokenInvalid}}}

// resetLink finds the user and stored reset of a token, checking it without using it.
func (s *Auth) resetLink(ctx context.Context, token string) (*models.User, string, error) {
	userID, secret, ok := strings.Cut(token, ".")
	if !ok || !models.ValidID(userID) || len(secret) != 43 {
		return nil, "", errResetLink
	}
	hash := hashToken(secret)
	r, err := s.users.GetPasswordReset(ctx, userID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil, "", errResetLink
	case err != nil:
		return nil, "", err
	}
	if subtle.ConstantTimeCompare([]byte(r.Hash), []byte(hash)) != 1 || r.UsedAt != nil || !r.ExpiresAt.After(s.now()) {
		return nil, "", errResetLink
	}
	u, err := s.users.GetUser(ctx, userID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil, "", errResetLink
	case err != nil:
		return nil, "", err
	}
	if u.Disabled {
		return nil, "", errResetLink
	}
	return u, hash, nil
}

// CheckPasswordReset reports whether a reset link can still be used (the web shows its form
// only then), without using it. Unusable links count as failures of the client address.
func (s *Auth) CheckPasswordReset(ctx context.Context, token, clientIP string) error {
	addrKey := loginAddressKey(clientIP)
	if err := s.waitLimits(ctx, addrKey); err != nil {
		return err
	}
	if _, _, err := s.resetLink(ctx, token); err != nil {
		if errors.Is(err, errResetLink) {
			s.failed(ctx, addrKey, LoginAddressBackoff)
		}
		return err
	}
	return nil
}

// ResetPassword sets a new password with a one-time link, without signing in: the link is
// used up, every session of the account ends, and the account no longer has to change its
// password (its owner chose this one). An unusable link counts as a failure of the client
// address; a refused password leaves the link usable, so its owner can try another.
func (s *Auth) ResetPassword(ctx context.Context, token, password, clientIP string) error {
	addrKey := loginAddressKey(clientIP)
	if err := s.waitLimits(ctx, addrKey); err != nil {
		return err
	}
	u, hash, err := s.resetLink(ctx, token)
	if err != nil {
		if errors.Is(err, errResetLink) {
			s.failed(ctx, addrKey, LoginAddressBackoff)
		}
		return err
	}
	var p models.Problems
	checkPassword(s.passwords, "new_password", password, u.Email, u.Name, &p)
	if err := p.Err(); err != nil {
		return err
	}
	now := s.now().UTC()
	if _, err := s.users.UsePasswordReset(ctx, u.ID, hash, now); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return errResetLink // used by a concurrent request
		}
		return err
	}
	if err := s.setPassword(ctx, u, password); err != nil {
		return err
	}
	if err := s.putRevocation(ctx, models.Revocation{ID: models.RevokedUserKey(u.ID), Reason: "password reset",
		At: now, ExpiresAt: now.Add(models.RefreshTokenTTL)}); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	s.cleared(ctx, loginAccountKey(u.EmailKey, clientIP))
	audit(ctx, s.audit, s.log, now, actorOf(u, ""), "password_reset", "user", u.ID, []string{"password"})
	return nil
}
