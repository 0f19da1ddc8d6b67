package web

import (
	"errors"
	"net/url"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// workspace is the home page of a role's workspace, where signing in leads.
func workspace(r models.Role) string {
	switch r {
	case models.RoleMinistry:
		return "/ministry"
	case models.RoleDonor:
		return "/donor"
	default:
		return "/coordinator"
	}
}

// SetLanguage remembers the language chosen with the switcher in a cookie for a year and, for
// a signed-in user, on their account (so that it follows them to another browser: see
// SignIn); then it returns to the page it was chosen on. It is a plain link, so it works
// without JavaScript; it changes only a display preference, so it needs no CSRF token.
func (u *UI) SetLanguage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		lang := c.Params("code")
		ok := false
		for _, l := range models.SupportedLangs {
			ok = ok || l == lang
		}
		if !ok {
			lang = "en"
		}
		setLangCookie(c, lang)
		if u.app != nil {
			if s, err := u.currentSession(c); err == nil && s != nil {
				if err := u.app.Accounts.SetLanguage(c.UserContext(), &s.Actor, lang); err != nil {
					u.log.WarnContext(c.UserContext(), "language choice not kept on the account", "err", err)
				}
			}
		}
		next := safeNext(c.Query("next"))
		if next == "" {
			next = "/"
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Redirect(next, fiber.StatusSeeOther)
	}
}

// setLangCookie remembers a UI language in this browser for a year.
func setLangCookie(c *fiber.Ctx, lang string) {
	c.Cookie(&fiber.Cookie{Name: langCookie, Value: lang, Path: "/", HTTPOnly: true, Secure: secureCookies(c),
		SameSite: fiber.CookieSameSiteLaxMode, MaxAge: 365 * 24 * 3600})
}

// signInPage is the data of the sign-in page.
type signInPage struct {
	F    *form
	Next string
	// Failed is a message for the form as a whole (wrong credentials, too many attempts).
	Failed string
}

// SignInPage shows the sign-in form.
func (u *UI) SignInPage() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		next := safeNext(r.c.Query("next"))
		if r.S != nil {
			if next == "" {
				next = workspace(r.S.Actor.Role)
			}
			return r.redirect(next)
		}
		return r.render(200, "signin", r.L.T("signin.title"), "signin", &signInPage{F: newForm(), Next: next})
	})
}

// SignIn checks the credentials with the same use case as POST /api/v1/auth/login (same rate
// limits) and puts the API's token pair in the session cookie.
func (u *UI) SignIn() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		f := postedForm(r.c)
		f.labels = map[string]string{"email": r.L.T("signin.email"), "password": r.L.T("signin.password")}
		next := safeNext(f.Get("next"))
		email, password := f.Get("email"), f.Get("password")
		if email == "" {
			f.Add("email", r.L.Problem(models.ProblemRequired, nil))
		}
		if password == "" {
			f.Add("password", r.L.Problem(models.ProblemRequired, nil))
		}
		page := &signInPage{F: f, Next: next}
		f.Values.Del("password") // never echoed back
		if !f.OK() {
			return r.render(422, "signin", r.L.T("signin.title"), "signin", page)
		}
		pair, err := u.app.Auth.Login(r.c.UserContext(), email, password, r.c.IP())
		switch {
		case errors.Is(err, models.ErrUnauthorized):
			page.Failed = r.L.T("signin.failed")
			return r.render(401, "signin", r.L.T("signin.title"), "signin", page)
		case errors.Is(err, models.ErrRateLimited):
			page.Failed = r.L.T("signin.rate_limited")
			r.c.Set(fiber.HeaderRetryAfter, retryAfter(err, time.Minute))
			return r.render(429, "signin", r.L.T("signin.title"), "signin", page)
		case err != nil:
			return err
		}
		t := tokens{Access: pair.AccessToken, Refresh: pair.RefreshToken, Remember: f.Get("remember") == "1"}
		a, err := u.app.Auth.Authenticate(r.c.UserContext(), t.Access)
		if err != nil {
			return err
		}
		setSession(r.c, t)
		if usr, err := u.app.Accounts.GetUser(r.c.UserContext(), &a, a.UserID); err == nil && usr.Lang != "" {
			setLangCookie(r.c, usr.Lang) // the language the user chose, on whichever browser
		}
		if next == "" || next == "/signin" {
			next = workspace(a.Role)
		}
		return r.redirect(next)
	})
}

// SignOut ends the session everywhere, like POST /api/v1/auth/logout: the access token and
// its refresh family are revoked, and the cookie is cleared.
func (u *UI) SignOut() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		if r.S != nil {
			if err := u.app.Auth.Logout(r.c.UserContext(), r.S.Actor); err != nil {
				return err
			}
		}
		clearSession(r.c)
		return r.redirect("/?" + url.Values{"ok": {"signed_out"}}.Encode())
	})
}
