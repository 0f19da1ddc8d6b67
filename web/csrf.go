package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// CSRF protection: every POST form carries a token that is an HMAC, under a key every replica
// shares, of what binds the browser to its session: the refresh-token family of a signed-in
// user (stable across token refreshes, new at every sign-in), or for an anonymous visitor
// (the sign-in form) a random nonce kept in an HttpOnly cookie. A page of another site can
// neither read the token nor compute it. SameSite cookies and the Sec-Fetch-Site check are
// a second line.

// csrfField is the name of the hidden form field that carries the token.
const csrfField = "_csrf"

// csrfKeySetting names the shared HMAC key in the store's settings, created on first use.
const csrfKeySetting = "web_csrf_key"

// key returns the replicas' shared CSRF key, loading or creating it in the store once.
func (u *UI) key(ctx context.Context) ([]byte, error) {
	u.csrfMu.Lock()
	defer u.csrfMu.Unlock()
	if u.csrfKey != nil {
		return u.csrfKey, nil
	}
	k, err := u.app.SharedSecret(ctx, csrfKeySetting, 32)
	if err != nil {
		return nil, fmt.Errorf("csrf key: %w", err)
	}
	if len(k) < 32 {
		return nil, fmt.Errorf("csrf key: stored key is too short")
	}
	u.csrfKey = k
	return k, nil
}

func csrfMAC(key []byte, binding string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("capmatch-csrf:" + binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// csrfBinding is what the token of this request is bound to. For an anonymous visitor it
// creates the nonce cookie when create is true (pages that render a form).
func csrfBinding(c *fiber.Ctx, s *session, create bool) (string, error) {
	if s != nil {
		return "fam:" + s.Actor.FamilyID, nil
	}
	name := csrfCookieName(c)
	if n := c.Cookies(name); len(n) >= 16 && len(n) <= 64 {
		return "anon:" + n, nil
	}
	if !create {
		return "", nil
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("csrf nonce: %w", err)
	}
	n := base64.RawURLEncoding.EncodeToString(b)
	c.Cookie(&fiber.Cookie{Name: name, Value: n, Path: "/", HTTPOnly: true, Secure: secureCookies(c),
		SameSite: fiber.CookieSameSiteLaxMode, SessionOnly: true})
	return "anon:" + n, nil
}

// csrfToken returns the token forms on this page must carry.
func (u *UI) csrfToken(c *fiber.Ctx, s *session) (string, error) {
	b, err := csrfBinding(c, s, true)
	if err != nil {
		return "", err
	}
	k, err := u.key(c.UserContext())
	if err != nil {
		return "", err
	}
	return csrfMAC(k, b), nil
}

// csrfHeader lets a script send the token in a header instead of the form.
const csrfHeader = "X-CSRF-Token"

// submittedCSRF is the token a POST carries: in the X-CSRF-Token header, or in the form body
// (URL-encoded or multipart). Never the query string, where a token would leak into access
// logs, browser history and Referer headers (Fiber's FormValue also reads the query).
func submittedCSRF(c *fiber.Ctx) string {
	if h := c.Get(csrfHeader); h != "" {
		return h
	}
	if v := c.Request().PostArgs().Peek(csrfField); len(v) > 0 {
		return string(v)
	}
	if mf, err := c.MultipartForm(); err == nil && mf != nil && len(mf.Value[csrfField]) > 0 {
		return mf.Value[csrfField][0]
	}
	return ""
}

// errCSRF is returned for a POST without a valid token; the page says the form expired.
var errCSRF = models.Errorf(models.ErrForbidden, "the form has expired or did not come from capmatch")

// checkCSRF verifies the token of a POST. Browsers that say the request comes from another
// site are refused before the token is even looked at.
func (u *UI) checkCSRF(c *fiber.Ctx, s *session) error {
	if site := c.Get("Sec-Fetch-Site"); site == "cross-site" {
		return errCSRF
	}
	b, err := csrfBinding(c, s, false)
	if err != nil {
		return err
	}
	got := submittedCSRF(c)
	if b == "" || got == "" {
		return errCSRF
	}
	k, err := u.key(c.UserContext())
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(csrfMAC(k, b))) != 1 {
		return errCSRF
	}
	return nil
}
