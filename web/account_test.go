package web_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const newPW = "mango otter quilt lantern"

// signInWith signs in through the form with a given password and returns the redirect.
func (b *browser) signInWith(email, password string) page {
	b.s.t.Helper()
	return b.post("/signin", "/signin", url.Values{"email": {email}, "password": {password}})
}

// TestChangePasswordPage (issue 13.6): a signed-in user changes their password from the web,
// with the same rules as the API; their other sessions end, this one goes on.
func TestChangePasswordPage(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	b.signIn(s.fx.donor)
	other := s.browser()
	other.signIn(s.fx.donor)
	assertPage(t, other.get("/donor"), 200)

	p := b.get("/account/password")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `autocomplete="new-password"`)
	assert.Contains(t, b.get("/donor").Body, `href="/account/password"`, "the header links to it")

	post := func(current, fresh, again string) page {
		return b.post("/account/password", "/account/password", url.Values{"current_password": {current}, "new_password": {fresh}, "confirm_password": {again}})
	}
	p = post(pw, newPW, newPW+"x")
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, "The two new passwords are not the same.")
	p = post("not my password at all", newPW, newPW)
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, "This is not your current password.")
	p = post(pw, "password1234", "password1234")
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, "too common or too easy to guess")
	assert.NotContains(t, p.Body, "password1234", "passwords are never echoed")
	assert.NotContains(t, p.Body, pw)

	p = post(pw, newPW, newPW)
	require.Equal(t, 303, p.Status, p.Body)
	assert.Equal(t, "/donor?ok=password_changed", p.Header.Get("Location"))
	p = b.get("/donor?ok=password_changed")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Your password has been changed")
	assert.Equal(t, 303, other.get("/donor").Status, "the other session was signed out")

	again := s.browser()
	assert.Equal(t, 401, again.signInWith(s.fx.donor, pw).Status, "the old password no longer works")
	assert.Equal(t, 303, again.signInWith(s.fx.donor, newPW).Status)
}

// TestAccountsCreatedByOthersAreSentToTheChangePage (issue 13.6): an account a coordinator
// created is sent to the change page from every page until it has chosen its own password.
func TestAccountsCreatedByOthersAreSentToTheChangePage(t *testing.T) {
	s := newStack(t)
	s.seed()
	_, err := s.app.Accounts.CreateUser(context.Background(), s.actor(s.fx.coord), service.UserInput{Email: "desk.officer@mfa.sn.example",
		Password: pw, Name: "Desk Officer", Role: "ministry", OrganizationID: s.fx.snOrg, MustChangePassword: true})
	require.NoError(t, err)
	b := s.browser()
	require.Equal(t, 303, b.signInWith("desk.officer@mfa.sn.example", pw).Status)
	for _, path := range []string{"/ministry", "/needs", "/engagements", "/"} {
		p := b.get(path)
		require.Equal(t, 303, p.Status, path)
		assert.Equal(t, "/account/password?next="+url.QueryEscape(path), p.Header.Get("Location"), path)
	}
	p := b.post("/account/password", "/ministry/needs", url.Values{"title": {"x"}})
	assert.Equal(t, 303, p.Status, "a form post is sent to the change page too, and changes nothing")
	p = b.get("/account/password?next=%2Fministry")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Your password was chosen by someone else")
	p = b.post("/account/password?next=%2Fministry", "/account/password", url.Values{"current_password": {pw}, "new_password": {newPW},
		"confirm_password": {newPW}, "next": {"/ministry"}})
	require.Equal(t, 303, p.Status, p.Body)
	assert.Equal(t, "/ministry?ok=password_changed", p.Header.Get("Location"))
	assertPage(t, b.get("/ministry"), 200)
	assertPage(t, b.get("/needs"), 200)
}

var resetLinkRe = regexp.MustCompile(`<code class="reset-link">([^<]+)</code>`)

// TestResetLinksFromTheAccountsPage (issue 13.6): a coordinator issues a one-time link from
// the accounts page; its owner opens it without signing in and sets a new password; the link
// then no longer works.
func TestResetLinksFromTheAccountsPage(t *testing.T) {
	s := newStack(t)
	s.seed()
	coord := s.browser()
	coord.signIn(s.fx.coord)
	p := coord.get("/coordinator/users")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, s.fx.donor)
	donor, err := s.app.Accounts.GetUser(context.Background(), s.actor(s.fx.coord), s.actor(s.fx.donor).UserID)
	require.NoError(t, err)
	assert.Contains(t, p.Body, `action="/coordinator/users/`+donor.ID+`/reset"`)
	assert.NotContains(t, p.Body, `action="/coordinator/users/`+s.actor(s.fx.coord).UserID+`/reset"`,
		"no button where the viewer may not issue a link (a coordinator for a coordinator)")
	p = coord.post("/coordinator/users", "/coordinator/users/"+donor.ID+"/reset", nil)
	assertPage(t, p, 201)
	assert.Equal(t, "no-referrer", p.Header.Get("Referrer-Policy"))
	m := resetLinkRe.FindStringSubmatch(p.Body)
	require.NotNil(t, m, "the page shows the link once")
	link, err := url.Parse(html.UnescapeString(m[1]))
	require.NoError(t, err)
	assert.Equal(t, "/reset", link.Path)
	token := link.Query().Get("token")
	require.NotEmpty(t, token)
	assert.NotContains(t, coord.get("/coordinator/users").Body, token, "shown only once")

	anon := s.browser()
	p = anon.get(link.RequestURI())
	assertPage(t, p, 200)
	assert.Equal(t, "no-referrer", p.Header.Get("Referrer-Policy"))
	set := func(fresh string) page {
		return anon.post(link.RequestURI(), "/reset", url.Values{"token": {token}, "new_password": {fresh}, "confirm_password": {fresh}})
	}
	p = set("password1234")
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, "too common or too easy to guess")
	p = set(newPW)
	require.Equal(t, 303, p.Status, p.Body)
	assert.Equal(t, "/signin?ok=password_reset", p.Header.Get("Location"))
	assert.Contains(t, anon.get("/signin?ok=password_reset").Body, "Your password has been set.")

	p = anon.get(link.RequestURI())
	assertPage(t, p, 404)
	assert.Contains(t, p.Body, "This link does not work", "single use")
	assertPage(t, anon.get("/reset?token=nobody.nothing"), 404)
	assert.Equal(t, 303, s.browser().signInWith(s.fx.donor, newPW).Status)

	// Only curators see the page and issue links.
	d := s.browser()
	require.Equal(t, 303, d.signInWith(s.fx.donor, newPW).Status)
	assertPage(t, d.get("/coordinator/users"), 403)
	tok := csrf(t, d.get("/donor"))
	p = d.do("POST", "/coordinator/users/"+donor.ID+"/reset", url.Values{"_csrf": {tok}})
	assertPage(t, p, 403)
	assert.False(t, strings.Contains(p.Body, "/reset?token="))
}
