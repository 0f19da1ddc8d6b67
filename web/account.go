package web

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// Paths an account that must change its password may still open (every other page sends it
// to the change page): the change page itself and sign-out.
const changePasswordPath = "/account/password"

func passwordChangeExempt(path string) bool {
	return path == changePasswordPath || path == "/signout"
}

// passwordPage is the data of the change-password page.
type passwordPage struct {
	F      *form
	Next   string
	Forced bool
}

// passwordLabels names the password forms' fields in the error summary.
func passwordLabels(L *Localizer) map[string]string {
	return map[string]string{"current_password": L.T("password.current"), "new_password": L.T("password.new"),
		"confirm_password": L.T("password.confirm"), "token": L.T("reset.title")}
}

// ChangePasswordPage shows the form to change one's own password; an account whose password
// someone else set lands here before anything else.
func (u *UI) ChangePasswordPage() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		forced := u.app.Auth.PasswordGate(r.c.UserContext(), r.actor()) != nil
		return r.render(200, "password", r.L.T("password.title"), "password",
			&passwordPage{F: newForm(), Next: safeNext(r.c.Query("next")), Forced: forced})
	})
}

// ChangePassword changes the signed-in user's password with the same use case as
// POST /api/v1/me/password (same rules; the other sessions end), then renews this session's
// tokens so that they no longer carry the must-change mark.
func (u *UI) ChangePassword() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		ctx := r.c.UserContext()
		f := postedForm(r.c)
		f.labels = passwordLabels(r.L)
		next := safeNext(f.Get("next"))
		current, fresh, again := f.Get("current_password"), f.Get("new_password"), f.Get("confirm_password")
		for _, k := range []string{"current_password", "new_password", "confirm_password"} {
			f.Values.Del(k) // never echoed back
		}
		page := &passwordPage{F: f, Next: next, Forced: u.app.Auth.PasswordGate(ctx, r.actor()) != nil}
		if fresh != again {
			f.Add("confirm_password", r.L.T("err.password_mismatch"))
			return r.render(422, "password", r.L.T("password.title"), "password", page)
		}
		err := u.app.Auth.ChangePassword(ctx, r.actor(), current, fresh, r.c.IP())
		if f.addDomainErrors(r.L, err) {
			return r.render(422, "password", r.L.T("password.title"), "password", page)
		}
		if err != nil {
			return err
		}
		// Renew this session: its access token may carry the must-change mark.
		t := r.S.tokens
		pair, err := u.refresh.do(ctx, t.Refresh, browserOf(r.c), func(ctx context.Context) (*models.TokenPair, error) {
			return u.app.Auth.Refresh(ctx, t.Refresh)
		}, u.now())
		if err != nil {
			return err
		}
		setSession(r.c, tokens{Access: pair.AccessToken, Refresh: pair.RefreshToken, Remember: t.Remember})
		if next == "" || next == changePasswordPath {
			next = workspace(r.S.Actor.Role)
		}
		return r.redirect(withFlash(next, "password_changed"))
	})
}

// resetPage is the data of the password reset page.
type resetPage struct {
	F     *form
	Token string
	// Invalid says the link cannot be used (unknown, used, replaced, expired).
	Invalid bool
}

// ResetPasswordPage shows the form to set a new password with a one-time link, to someone
// who is not signed in. The link is checked, not used; a page with a token in its address
// is sent without a Referer to anything it loads.
func (u *UI) ResetPasswordPage() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		token := r.c.Query("token")
		r.c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
		err := u.app.Auth.CheckPasswordReset(r.c.UserContext(), token, r.c.IP())
		switch {
		case errors.Is(err, models.ErrInvalid):
			return r.render(404, "reset", r.L.T("reset.invalid.title"), "reset", &resetPage{F: newForm(), Invalid: true})
		case err != nil:
			return err
		}
		return r.render(200, "reset", r.L.T("reset.title"), "reset", &resetPage{F: newForm(), Token: token})
	})
}

// ResetPassword sets the new password with the link (service.Auth.ResetPassword: the link is
// used up and every session of the account ends), then sends the person to sign in.
func (u *UI) ResetPassword() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		r.c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
		f := postedForm(r.c)
		f.labels = passwordLabels(r.L)
		token, fresh, again := f.Get("token"), f.Get("new_password"), f.Get("confirm_password")
		f.Values.Del("new_password")
		f.Values.Del("confirm_password")
		page := &resetPage{F: f, Token: token}
		if fresh != again {
			f.Add("confirm_password", r.L.T("err.password_mismatch"))
			return r.render(422, "reset", r.L.T("reset.title"), "reset", page)
		}
		err := u.app.Auth.ResetPassword(r.c.UserContext(), token, fresh, r.c.IP())
		var de *models.Error
		if errors.As(err, &de) && len(de.Fields) > 0 && de.Fields[0].Field == "token" {
			return r.render(404, "reset", r.L.T("reset.invalid.title"), "reset", &resetPage{F: newForm(), Invalid: true})
		}
		if f.addDomainErrors(r.L, err) {
			return r.render(422, "reset", r.L.T("reset.title"), "reset", page)
		}
		if err != nil {
			return err
		}
		if r.S != nil { // the session in this browser ended with the others
			clearSession(r.c)
		}
		return r.redirect("/signin?" + url.Values{"ok": {"password_reset"}}.Encode())
	})
}

// accountsPage is the data of the coordinators' accounts page.
type accountsPage struct {
	Users []*models.User
	Orgs  map[string]string
	// Manage names the users whose reset link the viewer may issue (models.AuthorizeAccounts):
	// coordinators may not for coordinators and admins.
	Manage map[string]bool
	// Link is a reset link just issued, shown once.
	Link *issuedLink
}

type issuedLink struct {
	User      *models.User
	URL       string
	ExpiresAt time.Time
}

// Accounts lists the accounts for coordinators and admins, each with a button to issue a
// one-time password reset link.
func (u *UI) Accounts() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		p, err := u.accountsPage(r)
		if err != nil {
			return err
		}
		return r.render(200, "accounts", r.L.T("accounts.title"), "accounts", p)
	})
}

// IssueResetLink issues a one-time reset link for a user (service.Accounts.IssuePasswordReset:
// coordinators for ministry and donor accounts, admins for all) and shows it once.
func (u *UI) IssueResetLink() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		ctx := r.c.UserContext()
		link, err := u.app.Accounts.IssuePasswordReset(ctx, r.actor(), r.c.Params("id"))
		if err != nil {
			return err
		}
		p, err := u.accountsPage(r)
		if err != nil {
			return err
		}
		for _, usr := range p.Users {
			if usr.ID == link.UserID {
				p.Link = &issuedLink{User: usr, URL: r.c.BaseURL() + link.Path, ExpiresAt: link.ExpiresAt}
			}
		}
		r.c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
		return r.render(201, "accounts", r.L.T("accounts.title"), "accounts", p)
	})
}

func (u *UI) accountsPage(r *req) (*accountsPage, error) {
	ctx := r.c.UserContext()
	users, err := u.app.Accounts.ListUsers(ctx, r.actor())
	if err != nil {
		return nil, err
	}
	orgs, err := u.app.Accounts.ListOrgs(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	manage := map[string]bool{}
	for _, usr := range users {
		manage[usr.ID] = !usr.Disabled && models.AuthorizeAccounts(r.actor(), models.ActManage, usr.Role) == nil
	}
	return &accountsPage{Users: users, Orgs: names, Manage: manage}, nil
}

// gatePassword sends a session whose account must still choose its own password to the change
// page, from any page but that one and sign-out (service.Auth.PasswordGate decides).
func (u *UI) gatePassword(r *req) (bool, error) {
	if r.S == nil || !r.S.Actor.MustChangePassword || passwordChangeExempt(r.c.Path()) {
		return false, nil
	}
	err := u.app.Auth.PasswordGate(r.c.UserContext(), &r.S.Actor)
	switch {
	case errors.Is(err, models.ErrPasswordChangeRequired):
		return true, r.redirect(changePasswordPath + "?" + url.Values{"next": {r.here()}}.Encode())
	case err != nil:
		return true, err
	}
	return false, nil
}
