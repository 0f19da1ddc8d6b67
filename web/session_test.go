package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRefreshGraceIsBoundToTheBrowser (issue 13.8): when a session's access token expires, the
// first request refreshes it, and for a few seconds other requests that still carry the retired
// refresh token (a second tab, a page and its htmx request) get the same new pair rather than
// tripping reuse detection. That grace used to hand the new pair to whoever presented the
// retired token within 30 s, without revoking anything. Now it serves only the same browser
// (client address and User-Agent); anyone else presenting the retired token is treated as a
// thief: the whole session is revoked.
func TestRefreshGraceIsBoundToTheBrowser(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	ua := []string{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}
	p := b.do("POST", "/signin", url.Values{"email": {s.fx.ministry}, "password": {pw}, "_csrf": {csrf(t, b.do("GET", "/signin", nil, ua...))}}, ua...)
	require.Equal(t, 303, p.Status, p.Body)
	retired := b.cookies["capmatch_session"].Value

	s.clock.advance(models.AccessTokenTTL + time.Minute)
	p = b.do("GET", "/ministry", nil, ua...)
	assertPage(t, p, 200)
	require.NotNil(t, findCookie(p.Set, "capmatch_session"), "refreshed")

	// The same browser's concurrent request, still carrying the retired token: same pair.
	tab := s.browser()
	tab.cookies["capmatch_session"] = &http.Cookie{Name: "capmatch_session", Value: retired}
	p = tab.do("GET", "/ministry", nil, ua...)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "A. Diallo")

	// Someone else presenting the retired token within the grace: refused, and the session
	// it belonged to is revoked.
	thief := s.browser()
	thief.cookies["capmatch_session"] = &http.Cookie{Name: "capmatch_session", Value: retired}
	p = thief.do("GET", "/ministry", nil, "User-Agent", "curl/8.11.1")
	assert.Equal(t, 303, p.Status, "the thief is not signed in")
	assert.NotContains(t, p.Body, "A. Diallo")
	p = b.do("GET", "/ministry", nil, ua...)
	assert.Equal(t, 303, p.Status, "reuse detection ended the session everywhere")
}

// TestCSRFTokenIsReadFromTheBodyOrHeaderOnly (issue 13.8): the CSRF token was also accepted
// from the query string, where it leaks into logs, history and Referer headers. Only the form
// body and the X-CSRF-Token header carry it now.
func TestCSRFTokenIsReadFromTheBodyOrHeaderOnly(t *testing.T) {
	s := newStack(t)
	s.seed()
	m := s.actor(s.fx.ministry)
	n, err := s.app.Needs.Create(t.Context(), m, needInput("Cybercrime law"))
	require.NoError(t, err)
	_, err = s.app.Needs.Transition(t.Context(), m, n.ID, models.NeedSubmit, "")
	require.NoError(t, err)
	b := s.browser()
	b.signIn(s.fx.coord)
	tok := csrf(t, b.get("/coordinator"))

	p := b.do("POST", "/needs/"+n.ID+"/reject?_csrf="+url.QueryEscape(tok), url.Values{"reason": {"Please add the budget breakdown."}})
	assert.Equal(t, 403, p.Status, "a token in the query string is not accepted")
	got, err := s.app.Needs.Get(t.Context(), s.actor(s.fx.coord), n.ID)
	require.NoError(t, err)
	assert.Equal(t, models.NeedSubmitted, got.Status, "nothing changed")

	p = b.do("POST", "/needs/"+n.ID+"/reject", url.Values{"reason": {"Please add the budget breakdown."}}, "X-CSRF-Token", tok)
	assert.Equal(t, 303, p.Status, "the header carries it: %s", p.Body)
	got, err = s.app.Needs.Get(t.Context(), s.actor(s.fx.coord), n.ID)
	require.NoError(t, err)
	assert.Equal(t, models.NeedDraft, got.Status)
}
