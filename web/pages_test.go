package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/capmatch/capmatch/web"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inlineCode finds what the Content-Security-Policy would block: inline scripts, inline
// styles, style attributes and event-handler attributes.
var inlineCode = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<style[\s>]|\sstyle\s*=|\son[a-z]+\s*=\s*["']|javascript:`)

func assertPage(t *testing.T, p page, status int) {
	t.Helper()
	require.Equal(t, status, p.Status, "%.600s", p.Body)
	assert.Equal(t, web.ContentSecurityPolicy, p.Header.Get("Content-Security-Policy"))
	assert.Contains(t, p.Header.Get("Content-Type"), "text/html")
	assert.Empty(t, inlineCode.FindAllString(p.Body, 5), "no inline script or style (CSP forbids them)")
}

func TestPublicPagesWithoutSignIn(t *testing.T) {
	s := newStack(t)
	s.seed()
	n := s.openNeed("Establish a national CSIRT")
	b := s.browser()
	for _, path := range []string{"/", "/needs", "/needs?theme=incident_management&country=SN&q=csirt", "/needs/" + n.ID,
		"/offers", "/countries", "/countries?region=002&open=1", "/countries/SN", "/map", "/map?metric=funding", "/signin"} {
		p := b.get(path)
		assertPage(t, p, 200)
		assert.Contains(t, p.Body, `<html lang="en" dir="ltr">`, path)
		assert.Contains(t, p.Body, `href="/docs"`, path+" links the API docs")
		assert.Equal(t, "private, no-cache", p.Header.Get("Cache-Control"), path)
	}
	p := b.get("/needs")
	assert.Contains(t, p.Body, "Establish a national CSIRT")
	assert.Empty(t, s.browser().get("/needs").Header.Values("Set-Cookie"), "a page without a form sets no cookie for a visitor")
	assert.Contains(t, b.get("/countries/SN").Body, "Establish a national CSIRT", "the country profile lists its open needs")
	assert.Contains(t, b.get("/countries/sn").Header.Get("Location"), "/countries/SN")

	// Workspaces need a session; unknown pages are a 404 page, API paths stay problem+json.
	p = b.get("/ministry")
	assert.Equal(t, 303, p.Status)
	assert.Equal(t, "/signin?next=%2Fministry", p.Header.Get("Location"))
	assertPage(t, b.get("/no/such/page"), 404)
	p = b.get("/api/v1/no-such")
	assert.Equal(t, 404, p.Status)
	assert.Equal(t, "application/problem+json", p.Header.Get("Content-Type"))
}

func TestPublicListsHideWhatVisitorsMayNotSee(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	m := s.actor(s.fx.ministry)
	restricted := needInput("Restricted CERT gap")
	restricted.Visibility = models.VisibilityDonors
	r, err := s.app.Needs.Create(ctx, m, restricted)
	require.NoError(t, err)
	_, err = s.app.Needs.Transition(ctx, m, r.ID, models.NeedSubmit, "")
	require.NoError(t, err)
	_, err = s.app.Needs.Transition(ctx, s.actor(s.fx.coord), r.ID, models.NeedApprove, "")
	require.NoError(t, err)
	draft, err := s.app.Needs.Create(ctx, m, needInput("Draft strategy"))
	require.NoError(t, err)
	s.openNeed("Public open need")

	anon := s.browser()
	body := anon.get("/needs").Body
	assert.Contains(t, body, "Public open need")
	assert.NotContains(t, body, "Restricted CERT gap")
	assert.NotContains(t, body, "Draft strategy")
	assert.Equal(t, 404, anon.get("/needs/"+r.ID).Status)
	assert.Equal(t, 404, anon.get("/needs/"+draft.ID).Status)

	donor := s.browser()
	donor.signIn(s.fx.donor)
	assert.Contains(t, donor.get("/needs").Body, "Restricted CERT gap", "donors see donors-tier needs")
	assert.Equal(t, 200, donor.get("/needs/"+r.ID).Status)
	assert.Equal(t, 404, donor.get("/needs/"+draft.ID).Status)
}

// TestTitlesAreEscaped is the XSS check: a need titled <script>alert(1)</script> renders as
// text everywhere it is shown.
func TestTitlesAreEscaped(t *testing.T) {
	s := newStack(t)
	s.seed()
	const evil = `<script>alert(1)</script>`
	n := s.openNeed(evil)
	coord := s.browser()
	coord.signIn(s.fx.coord)
	for _, b := range []*browser{s.browser(), coord} {
		for _, path := range []string{"/needs", "/needs/" + n.ID, "/countries/SN"} {
			p := b.get(path)
			require.Equal(t, 200, p.Status)
			assert.NotContains(t, p.Body, evil, path)
			assert.Contains(t, p.Body, "&lt;script&gt;alert(1)&lt;/script&gt;", path)
		}
	}
	// A reason typed by a coordinator is escaped too.
	ministry := s.browser()
	ministry.signIn(s.fx.ministry)
	p := ministry.post("/ministry", "/ministry/needs", needForm(url.Values{"op": {"save"}, "title": {`"><img src=x onerror=alert(1)>`}}))
	require.Equal(t, 303, p.Status, p.Body)
	body := ministry.get("/ministry").Body
	assert.NotContains(t, body, `<img src=x`)
	assert.Contains(t, body, `&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`)
}

func TestSignInSetsAHardenedSessionCookie(t *testing.T) {
	s := newStack(t)
	s.seed()

	// On a real host (behind TLS) the cookies are Secure with the __Host- prefix.
	b := s.browser()
	b.host = "capmatch.example"
	p := b.get("/signin")
	assertPage(t, p, 200)
	nonce := findCookie(p.Set, "__Host-capmatch_csrf")
	require.NotNil(t, nonce, "the sign-in form gets a CSRF nonce cookie")
	assert.True(t, nonce.HttpOnly && nonce.Secure)
	p = b.post("/signin", "/signin", url.Values{"email": {s.fx.ministry}, "password": {pw}})
	require.Equal(t, 303, p.Status, p.Body)
	assert.Equal(t, "/ministry", p.Header.Get("Location"))
	sc := findCookie(p.Set, "__Host-capmatch_session")
	require.NotNil(t, sc)
	assert.True(t, sc.HttpOnly, "no script reads the tokens")
	assert.True(t, sc.Secure)
	assert.Equal(t, http.SameSiteLaxMode, sc.SameSite)
	assert.Equal(t, "/", sc.Path)
	assert.Zero(t, sc.MaxAge, "a session cookie unless asked to remember")
	parts := strings.Split(sc.Value, "~")
	require.Len(t, parts, 3)
	a, err := s.app.Auth.Authenticate(context.Background(), parts[1])
	require.NoError(t, err, "the cookie carries the API's own access token")
	assert.Equal(t, models.RoleMinistry, a.Role)
	assert.NotContains(t, p.Body+strings.Join(p.Header.Values("Set-Cookie"), ""), pw)

	// On loopback over plain HTTP (development, browser tests) they cannot be Secure.
	b = s.browser()
	p = b.get("/signin")
	p = b.do("POST", "/signin", url.Values{"_csrf": {csrf(t, p)}, "email": {s.fx.donor}, "password": {pw}, "remember": {"1"}, "next": {"/offers"}})
	require.Equal(t, 303, p.Status)
	assert.Equal(t, "/offers", p.Header.Get("Location"), "back to where the visitor came from")
	sc = findCookie(p.Set, "capmatch_session")
	require.NotNil(t, sc)
	assert.False(t, sc.Secure)
	assert.Equal(t, int(models.RefreshTokenTTL.Seconds()), sc.MaxAge, "remembered for the refresh token's life")

	// Wrong password: the form again, with a message, no cookie.
	b = s.browser()
	p = b.post("/signin", "/signin", url.Values{"email": {s.fx.donor}, "password": {"wrong password!"}})
	assertPage(t, p, 401)
	assert.Contains(t, p.Body, "Wrong e-mail address or password")
	assert.Nil(t, findCookie(p.Set, "capmatch_session"))

	// An open redirect is refused.
	b = s.browser()
	p = b.post("/signin", "/signin", url.Values{"email": {s.fx.donor}, "password": {pw}, "next": {"//evil.example/"}})
	assert.Equal(t, "/donor", p.Header.Get("Location"))
}

func findCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestEveryPostNeedsTheCSRFToken(t *testing.T) {
	s := newStack(t)
	s.seed()
	n := s.openNeed("Cybercrime law")

	anon := s.browser()
	anon.get("/signin")
	p := anon.do("POST", "/signin", url.Values{"email": {s.fx.coord}, "password": {pw}})
	assertPage(t, p, 403)
	assert.Contains(t, p.Body, "This form has expired")

	b := s.browser()
	b.signIn(s.fx.coord)
	tok := csrf(t, b.get("/coordinator"))
	for _, tc := range []struct {
		name  string
		token string
		extra []string
	}{
		{"no token", "", nil},
		{"forged token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil},
		{"token of another session", csrf(t, func() page { o := s.browser(); o.signIn(s.fx.coord); return o.get("/coordinator") }()), nil},
		{"cross-site request", tok, []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		form := url.Values{"reason": {"no"}}
		if tc.token != "" {
			form.Set("_csrf", tc.token)
		}
		p := b.do("POST", "/needs/"+n.ID+"/withdraw", form, tc.extra...)
		assert.Equal(t, 403, p.Status, tc.name)
	}
	got, err := s.app.Needs.Get(context.Background(), s.actor(s.fx.coord), n.ID)
	require.NoError(t, err)
	assert.Equal(t, models.NeedOpen, got.Status, "no forged request changed anything")

	// The token survives a transparent refresh of the session (same refresh family).
	s.clock.advance(16 * time.Minute)
	p = b.do("POST", "/signout", url.Values{"_csrf": {tok}})
	assert.Equal(t, 303, p.Status)
}

func TestExpiredAccessTokenIsRefreshedTransparently(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	b.signIn(s.fx.ministry)
	before := b.cookies["capmatch_session"].Value
	assertPage(t, b.get("/ministry"), 200)

	s.clock.advance(models.AccessTokenTTL + time.Minute)
	p := b.get("/ministry")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "A. Diallo", "still signed in")
	after := findCookie(p.Set, "capmatch_session")
	require.NotNil(t, after, "the refreshed pair is written back")
	assert.NotEqual(t, before, after.Value)

	// A second tab still holding the old cookie within the grace period gets the same new
	// pair, instead of tripping refresh-token reuse detection.
	tab := s.browser()
	tab.cookies["capmatch_session"] = &http.Cookie{Name: "capmatch_session", Value: before}
	p = tab.get("/ministry")
	assertPage(t, p, 200)
	assert.Equal(t, after.Value, findCookie(p.Set, "capmatch_session").Value)
	assertPage(t, b.get("/ministry"), 200)

	// Signing out revokes the session: the old cookie no longer works anywhere.
	stolen := b.cookies["capmatch_session"].Value
	p = b.post("/ministry", "/signout", nil)
	assert.Equal(t, 303, p.Status)
	assert.Nil(t, b.cookies["capmatch_session"])
	thief := s.browser()
	thief.cookies["capmatch_session"] = &http.Cookie{Name: "capmatch_session", Value: stolen}
	assert.Equal(t, 303, thief.get("/ministry").Status, "a revoked session is signed out")
}

func TestLanguageFromAcceptLanguageAndTheSwitcher(t *testing.T) {
	s := newStack(t)
	s.seed()
	s.openNeed("Stratégie nationale")
	b := s.browser()
	b.lang = "fr-SN,fr;q=0.9,en;q=0.5"
	p := b.get("/needs")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `<html lang="fr" dir="ltr">`)
	assert.Equal(t, "fr", p.Header.Get("Content-Language"))
	assert.Contains(t, p.Body, "Besoins")
	assert.Contains(t, p.Body, "Sénégal", "country names are translated")
	assert.Contains(t, p.Body, "Création d&#39;un CERT/CSIRT national", "catalogue labels are translated")
	assert.Contains(t, p.Body, "400\u00a0000 $ US", "money per language")
	assert.Contains(t, p.Body, "1 mars 2030", "dates per language")

	// The switcher remembers the choice in a cookie and returns to the page.
	p = b.get("/lang/es?next=" + url.QueryEscape("/needs?theme=incident_management"))
	assert.Equal(t, 303, p.Status)
	assert.Equal(t, "/needs?theme=incident_management", p.Header.Get("Location"))
	lc := findCookie(p.Set, "capmatch_lang")
	require.NotNil(t, lc)
	assert.True(t, lc.HttpOnly)
	p = b.get("/needs")
	assert.Contains(t, p.Body, `<html lang="es" dir="ltr">`, "the cookie wins over Accept-Language")
	assert.Contains(t, p.Body, "Necesidades")
	assert.Equal(t, "/", b.get("/lang/xx?next=https://evil.example").Header.Get("Location"))
}

// needForm is a complete, valid guided-form submission; over overrides fields.
func needForm(over url.Values) url.Values {
	f := url.Values{
		"theme": {"incident_management"}, "capability": {"cert_setup"}, "title": {"National CSIRT for Senegal"},
		"description": {"Set up the national CSIRT."}, "modalities": {"expert_deployment", "training"}, "languages": {"fr"},
		"languages_other": {"wo"}, "budget_usd": {"400 000"}, "start_by": {string(models.DateOf(time.Now().AddDate(0, 4, 0)))},
		"duration_months": {"18"}, "priority": {"high"}, "maturity.framework": {"sim3"}, "maturity.current": {"1"},
		"maturity.target": {"3"}, "visibility": {"public"},
	}
	for k, v := range over {
		f[k] = v
	}
	return f
}

func TestMinistryPostsANeedWithTheGuidedFormWithoutJavaScript(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	b.signIn(s.fx.ministry)
	p := b.get("/ministry/needs/new")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `name="theme"`)
	assert.NotContains(t, p.Body, `name="capability"`, "step 1 asks for the theme only")

	// Continue: the capabilities of the chosen theme appear, with their descriptions.
	tok := csrf(t, p)
	p = b.do("POST", "/ministry/needs", url.Values{"_csrf": {tok}, "op": {"refresh"}, "theme": {"cybercrime"}})
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `value="cybercrime_legislation"`)
	assert.NotContains(t, p.Body, `value="cert_setup"`, "only the capabilities of the theme")
	assert.Contains(t, p.Body, models.Describe("en", models.KindCapability, string(models.CapDigitalForensics)))
	assert.NotContains(t, p.Body, `name="title"`)

	// Continue again: the details, maturity and visibility steps appear.
	p = b.do("POST", "/ministry/needs", url.Values{"_csrf": {tok}, "op": {"refresh"}, "theme": {"incident_management"}, "capability": {"cert_setup"}})
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `name="title"`)
	assert.Contains(t, p.Body, `value="sim3" checked`, "a CERT need starts on the SIM3 scale")
	assert.Contains(t, p.Body, "4 – Explicit, actively assessed", "stages are named per scale")
	assert.Contains(t, p.Body, `name="visibility"`)

	// Save with problems: every error next to its field, in the user's language.
	b.lang = "fr"
	p = b.do("POST", "/ministry/needs", needForm(url.Values{"_csrf": {tok}, "op": {"save"}, "title": {""}, "budget_usd": {"beaucoup"},
		"modalities": nil, "maturity.current": {"3"}, "maturity.target": {"1"}}))
	assertPage(t, p, 422)
	for _, want := range []string{
		`id="f-title-err">Ce champ est obligatoire.`,
		`id="f-budget-usd-err">Indiquez un nombre entier`,
	} {
		assert.Contains(t, p.Body, want)
	}
	p = b.do("POST", "/ministry/needs", needForm(url.Values{"_csrf": {tok}, "op": {"save"}, "modalities": nil,
		"maturity.current": {"3"}, "maturity.target": {"1"}}))
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-modalities-err">Choisissez-en au moins un.`)
	assert.Contains(t, p.Body, `id="f-maturity-target-err">L&#39;objectif ne peut pas être inférieur au stade actuel (3).`)
	assert.Contains(t, p.Body, `aria-invalid="true"`)
	assert.Contains(t, p.Body, `value="National CSIRT for Senegal"`, "what was typed is kept")
	b.lang = "es"
	p = b.do("POST", "/ministry/needs", needForm(url.Values{"_csrf": {tok}, "op": {"save"}, "title": {""}, "modalities": nil}))
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-title-err">Este campo es obligatorio.`)
	assert.Contains(t, p.Body, `id="f-modalities-err">Elija al menos una opción.`)

	// Save and submit: the need is listed with its status.
	b.lang = ""
	p = b.do("POST", "/ministry/needs", needForm(url.Values{"_csrf": {tok}, "op": {"submit"}}))
	require.Equal(t, 303, p.Status, p.Body)
	assert.True(t, strings.HasPrefix(p.Header.Get("Location"), "/ministry?ok=need_submitted"))
	p = b.get(p.Header.Get("Location"))
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "National CSIRT for Senegal")
	assert.Contains(t, p.Body, "Awaiting review")
	assert.Contains(t, p.Body, "The need was submitted")

	all := s.h.Needs()
	require.Len(t, all, 1)
	n := all[0]
	assert.Equal(t, "SN", n.Country)
	assert.Equal(t, int64(400000), n.BudgetUSD)
	assert.Equal(t, []string{"fr", "wo"}, n.Languages)
	assert.Equal(t, models.Maturity{Framework: models.FrameworkSIM3, Current: 1, Target: 3}, n.Maturity)
}

func TestReviewQueueApprovesAndReturnsWithAReason(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	m := s.actor(s.fx.ministry)
	var ids []string
	for _, title := range []string{"Cybercrime law", "PoC drills"} {
		n, err := s.app.Needs.Create(ctx, m, needInput(title))
		require.NoError(t, err)
		_, err = s.app.Needs.Transition(ctx, m, n.ID, models.NeedSubmit, "")
		require.NoError(t, err)
		ids = append(ids, n.ID)
	}
	c := s.browser()
	c.signIn(s.fx.coord)
	p := c.get("/coordinator")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "2 needs awaiting review")

	p = c.post("/coordinator", "/needs/"+ids[0]+"/approve", url.Values{"next": {"/coordinator"}})
	require.Equal(t, 303, p.Status)
	p = c.get(p.Header.Get("Location"))
	assert.Contains(t, p.Body, "1 need awaiting review")
	assert.Contains(t, p.Body, "The need was approved")

	// Returning a need needs a reason; the error shows next to that need's field.
	p = c.post("/coordinator", "/needs/"+ids[1]+"/reject", url.Values{"next": {"/coordinator"}, "reason": {"  "}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="reason-`+ids[1]+`-err">This field is required.`)
	p = c.post("/coordinator", "/needs/"+ids[1]+"/reject", url.Values{"next": {"/coordinator"}, "reason": {"Please state the budget split."}})
	require.Equal(t, 303, p.Status)

	// The ministry sees the reason and can fix and resubmit.
	mb := s.browser()
	mb.signIn(s.fx.ministry)
	p = mb.get("/ministry")
	assert.Contains(t, p.Body, "Please state the budget split.")
	p = mb.get("/ministry/needs/" + ids[1] + "/edit")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `value="PoC drills"`)
	p = mb.do("POST", "/ministry/needs/"+ids[1]+"/edit", needForm(url.Values{"_csrf": {csrf(t, p)}, "op": {"submit"},
		"title": {"PoC drills (budget split added)"}, "version": {regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(p.Body)[1]}}))
	require.Equal(t, 303, p.Status, p.Body)
	n, err := s.app.Needs.Get(ctx, m, ids[1])
	require.NoError(t, err)
	assert.Equal(t, models.NeedSubmitted, n.Status)
	assert.Equal(t, "PoC drills (budget split added)", n.Title)

	// Wrong workspace: a ministry may not open the queue, nor approve.
	assertPage(t, mb.get("/coordinator"), 403)
	assert.Equal(t, 403, mb.post("/ministry", "/needs/"+ids[1]+"/approve", nil).Status)
}

func TestDonorPostsPublishesAndClosesAnOffer(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	b.signIn(s.fx.donor)
	p := b.get("/donor/offers/new")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `value="202"`, "the M49 tree lists Sub-Saharan Africa")
	assert.Contains(t, p.Body, `value="011"`, "and Western Africa under it")

	form := url.Values{"title": {"Francophone CSIRT programme"}, "themes": {"incident_management"}, "capabilities": {"cert_setup", "awareness"},
		"modalities": {"training"}, "languages": {"fr"}, "eligible_regions": {"011"}, "eligible_countries": {"fj"},
		"budget_usd": {"2,000,000"}, "max_engagements": {"4"}, "available_from": {"2027-01-01"}, "available_until": {"2026-12-31"}}
	p = b.post("/donor/offers/new", "/donor/offers", form)
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-capabilities-err">“Cybersecurity awareness” belongs to the theme “Culture and skills”, which is not among the offer&#39;s themes`)
	assert.Contains(t, p.Body, `id="f-available-until-err">This date must not be before the start, 1 Jan 2027.`)

	form.Set("available_until", "2028-12-31")
	form["capabilities"] = []string{"cert_setup"}
	form.Set("op", "publish")
	p = b.post("/donor/offers/new", "/donor/offers", form)
	require.Equal(t, 303, p.Status, p.Body)
	p = b.get(p.Header.Get("Location"))
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Francophone CSIRT programme")
	assert.Contains(t, p.Body, "US$2,000,000")
	assert.Contains(t, p.Body, "Western Africa")
	assert.Contains(t, p.Body, "Fiji")
	assert.Contains(t, p.Body, "The offer is published")

	offers := s.h.Offers()
	require.Len(t, offers, 1)
	o := offers[0]
	assert.Equal(t, models.OfferOpen, o.Status)
	assert.Equal(t, []string{"011"}, o.EligibleRegions)
	assert.Equal(t, []string{"FJ"}, o.EligibleCountries)

	// Visitors see it; an eligible country's filter finds it.
	anon := s.browser()
	assert.Contains(t, anon.get("/offers?country=SN").Body, "Francophone CSIRT programme")
	assert.NotContains(t, anon.get("/offers?country=KE").Body, "Francophone CSIRT programme")

	p = b.post("/donor", "/offers/"+o.ID+"/close", url.Values{"next": {"/donor"}})
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Close this offer?", "closing asks first")
	p = b.post("/donor", "/offers/"+o.ID+"/close", url.Values{"next": {"/donor"}, "confirm": {"yes"}})
	require.Equal(t, 303, p.Status)
	assert.Contains(t, b.get("/donor").Body, "Closed")
	assertPage(t, b.get("/ministry"), 403)
}

func TestReadinessProfileIsKeptUpToDate(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	b.signIn(s.fx.ministry)
	p := b.get("/countries/SN/readiness")
	assertPage(t, p, 200)
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(p.Body)[1]
	p = b.do("POST", "/countries/SN/readiness", url.Values{"_csrf": {csrf(t, p)}, "version": {version}, "poc_nominated": {"1"},
		"national_cert": {"1"}, "cert_maturity": {"2"}})
	require.Equal(t, 303, p.Status, p.Body)
	p = b.get(p.Header.Get("Location"))
	assert.Contains(t, p.Body, "The readiness profile was saved")
	cv, err := s.app.Countries.Get(context.Background(), nil, "SN")
	require.NoError(t, err)
	// poc_nominated is derived from the Points of Contact: a posted value is ignored.
	assert.Equal(t, models.Readiness{NationalCERT: true, CERTMaturity: 2}, cv.Readiness)
	assert.NotContains(t, b.get("/countries/SN/readiness").Body, `name="poc_nominated"`, "the form no longer offers it")

	// A stale form does not overwrite a newer profile.
	p = b.do("POST", "/countries/SN/readiness", url.Values{"_csrf": {csrf(t, p)}, "version": {version}, "national_strategy": {"1"}})
	assertPage(t, p, 409)
	assert.Contains(t, p.Body, "Someone changed this meanwhile")

	// Another country's ministry may not.
	other := s.browser()
	other.signIn(s.fx.ministry2)
	assertPage(t, other.get("/countries/SN/readiness"), 403)
}

// openOffer posts and publishes an offer as the donor that fits needInput's need.
func (s *stack) openOffer(title string) *models.Offer { return s.openOfferWith(title, nil) }

// openOfferWith is openOffer with the input changed by edit first.
func (s *stack) openOfferWith(title string, edit func(in *service.OfferInput)) *models.Offer {
	t := s.t
	ctx := context.Background()
	d := s.actor(s.fx.donor)
	in := service.OfferInput{Title: title, Themes: []models.Theme{models.ThemeIncidentManagement},
		Capabilities: []models.Capability{models.CapCERTSetup}, Modalities: []models.Modality{models.ModExpertDeployment, models.ModTraining},
		Languages: []string{"fr", "en"}, EligibleRegions: []string{"002"}, BudgetUSD: 2_000_000, MaxEngagements: 4,
		AvailableFrom: "2029-01-01", AvailableUntil: "2032-12-31"}
	if edit != nil {
		edit(&in)
	}
	o, err := s.app.Offers.Create(ctx, d, in)
	require.NoError(t, err)
	o, err = s.app.Offers.Transition(ctx, d, o.ID, models.OfferPublish, "")
	require.NoError(t, err)
	return o
}

func TestNeedAndOfferPagesExplainTheirMatches(t *testing.T) {
	s := newStack(t)
	s.seed()
	n := s.openNeed("National CSIRT")
	o := s.openOffer("Francophone CSIRT programme")

	m := s.browser()
	m.signIn(s.fx.ministry)
	p := m.get("/needs/" + n.ID)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `id="matches"`)
	assert.Contains(t, p.Body, `href="/offers/`+o.ID+`">Francophone CSIRT programme</a>`)
	assert.Contains(t, p.Body, "Francophone CSIRT Programme", "the offering organization is named")
	assert.Contains(t, p.Body, "Why this match")
	assert.Equal(t, 1+9, strings.Count(p.Body, "<meter"), "a bar for the score and one per factor")
	assert.Contains(t, p.Body, "The offer covers “Establishing a national CERT/CSIRT”.")
	assert.Contains(t, p.Body, "The remaining budget of US$2,000,000 covers the US$400,000 requested.")
	assert.Contains(t, p.Body, "The offer is open to 60 of 249 countries and territories.")
	assert.Contains(t, p.Body, `<span class="band band-strong">Strong match</span>`)
	assert.NotContains(t, p.Body, "Same theme, another capability")

	m.lang = "es"
	p = m.get("/needs/" + n.ID)
	assert.Contains(t, p.Body, "Por qué encaja")
	assert.Contains(t, p.Body, "La oferta cubre «Creación de un CERT/CSIRT nacional».")
	assert.Contains(t, p.Body, "Coincidencia sólida")

	// An offer on the same theme is a partial match, said so; one on another theme is not
	// listed, however well it does on language, budget and timing.
	partial := s.openOfferWith("Critical infrastructure programme", func(in *service.OfferInput) {
		in.Capabilities = []models.Capability{models.CapCIIP}
	})
	unrelated := s.openOfferWith("Cybercrime law programme", func(in *service.OfferInput) {
		in.Themes, in.Capabilities = []models.Theme{models.ThemeCybercrime}, []models.Capability{models.CapCybercrimeLegislation}
		in.AvailableFrom, in.AvailableUntil, in.BudgetUSD = "2026-01-01", "2035-12-31", 9_000_000
	})
	m.lang = "fr"
	p = m.get("/needs/" + n.ID)
	assert.Contains(t, p.Body, `href="/offers/`+partial.ID+`"`)
	assert.NotContains(t, p.Body, `href="/offers/`+unrelated.ID+`"`, "an unrelated offer is not listed")
	assert.Contains(t, p.Body, "Même thème, autre capacité : chaque critère compte pour moitié.")
	assert.Contains(t, p.Body, "L&#39;offre couvre le thème « Gestion des incidents et protection des infrastructures critiques » mais pas « Création d&#39;un CERT/CSIRT national ».",
		"the reason is written in French from its code and arguments")
	assert.Regexp(t, `band-(possible|weak)">Correspondance (possible|faible)`, p.Body)

	d := s.browser()
	d.signIn(s.fx.donor)
	p = d.get("/offers/" + o.ID)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `href="/needs/`+n.ID+`">National CSIRT</a>`)
	assert.Contains(t, p.Body, "Needs this offer fits")

	// Visitors see the offer but not the rankings (they are for signed-in users).
	assert.NotContains(t, s.browser().get("/offers/"+o.ID).Body, `id="matches"`)
}

func TestWeightsEditorPreviewsBeforeSaving(t *testing.T) {
	s := newStack(t)
	s.seed()
	s.openNeed("National CSIRT")
	s.openOffer("Francophone CSIRT programme")
	c := s.browser()
	c.signIn(s.fx.coord)
	p := c.get("/coordinator/weights")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `name="capability" type="text" inputmode="decimal" class="short" value="28"`)
	assert.Contains(t, p.Body, `name="focus" type="text" inputmode="decimal" class="short" value="5"`)
	tok := csrf(t, p)
	w := url.Values{"_csrf": {tok}, "version": {"1"}, "capability": {"40"}, "language": {"12"}, "modality": {"9"}, "budget": {"11"},
		"timing": {"10"}, "maturity": {"6"}, "focus": {"5"}, "priority": {"8"}, "duplication": {"11"}}

	w.Set("op", "preview")
	p = c.do("POST", "/coordinator/weights", w)
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, "The weights must add up to 100%; they add up to 112%.")
	assert.Contains(t, p.Body, `id="weights-total" `)

	w.Set("capability", "20")
	w.Set("duplication", "x")
	p = c.do("POST", "/coordinator/weights", w)
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-duplication-err">Enter a percentage`)

	w.Set("duplication", "19")
	p = c.do("POST", "/coordinator/weights", w)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "How the rankings would change")
	assert.Contains(t, p.Body, "of 1 open need would get a different best offer")
	assert.Contains(t, p.Body, "Francophone CSIRT programme")
	assert.Equal(t, int64(1), s.app.Matching.Weights().Version, "a preview saves nothing")

	w.Set("op", "save")
	p = c.do("POST", "/coordinator/weights", w)
	require.Equal(t, 303, p.Status, p.Body)
	got := s.app.Matching.Weights()
	assert.Equal(t, int64(2), got.Version)
	assert.InDelta(t, 0.20, got.Capability, 1e-9)
	assert.Contains(t, c.get(p.Header.Get("Location")).Body, "The new weights are in force")

	// The same form again names a stale version: nothing is overwritten.
	p = c.do("POST", "/coordinator/weights", w)
	assertPage(t, p, 409)
	assert.Equal(t, int64(2), s.app.Matching.Weights().Version)

	mb := s.browser()
	mb.signIn(s.fx.ministry)
	assertPage(t, mb.get("/coordinator/weights"), 403)
}

func TestEngagementFromProposalToFundedProject(t *testing.T) {
	s := newStack(t)
	s.seed()
	n := s.openNeed("National CSIRT")
	o := s.openOffer("Francophone CSIRT programme")

	// The ministry proposes from its need's ranked offers.
	m := s.browser()
	m.signIn(s.fx.ministry)
	p := m.get("/needs/" + n.ID)
	assert.Contains(t, p.Body, `<input type="hidden" name="offer_id" value="`+o.ID+`">`)
	p = m.do("POST", "/engagements", url.Values{"_csrf": {csrf(t, p)}, "need_id": {n.ID}, "offer_id": {o.ID},
		"message": {"We would like to start in March.\n<b>Thanks</b>"}})
	require.Equal(t, 303, p.Status, p.Body)
	engURL := strings.SplitN(p.Header.Get("Location"), "?", 2)[0]
	p = m.get(engURL)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Proposed")
	assert.Contains(t, p.Body, "&lt;b&gt;Thanks&lt;/b&gt;", "messages are escaped")
	assert.Contains(t, p.Body, "Withdraw the proposal")
	assert.NotContains(t, p.Body, "Accept the proposal", "the proposer does not answer its own proposal")
	assert.Contains(t, m.get("/needs/"+n.ID).Body, "See the engagement under way")

	// The donor answers it.
	d := s.browser()
	d.signIn(s.fx.donor)
	p = d.get("/engagements")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Your answer is awaited")
	p = d.get(engURL)
	assert.Contains(t, p.Body, "Accept the proposal")
	p = d.do("POST", engURL+"/message", url.Values{"_csrf": {csrf(t, p)}, "body": {" "}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-body-err">This field is required.`)
	p = d.post(engURL, engURL+"/accept", nil)
	require.Equal(t, 303, p.Status, p.Body)
	p = d.get(p.Header.Get("Location"))
	assert.Contains(t, p.Body, "The engagement is agreed")
	assert.Contains(t, p.Body, "Start the project")
	got, err := s.app.Needs.Get(context.Background(), s.actor(s.fx.coord), n.ID)
	require.NoError(t, err)
	assert.Equal(t, models.NeedMatched, got.Status)

	// The donor starts the project; a bad date shows next to its field.
	engID := strings.TrimPrefix(engURL, "/engagements/")
	form := url.Values{"engagement_id": {engID}, "title": {"National CSIRT project"}, "budget_usd": {"400000"},
		"start_date": {"2030-03-01"}, "end_date": {"2029-01-01"}, "implementer_organization_id": {s.fx.donorOrg}}
	p = d.post(engURL, "/projects", form)
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-end-date-err">This date must not be before the start, 1 Mar 2030.`)
	form.Set("end_date", "2031-08-31")
	p = d.post(engURL, "/projects", form)
	require.Equal(t, 303, p.Status, p.Body)
	prjURL := strings.SplitN(p.Header.Get("Location"), "?", 2)[0]

	// Money: a commitment and a disbursement; the gap follows.
	p = d.post(prjURL, prjURL+"/transactions", url.Values{"type": {"commitment"}, "amount_usd": {"300,000"}, "date": {"2025-03-15"}})
	require.Equal(t, 303, p.Status, p.Body)
	p = d.post(prjURL, prjURL+"/transactions", url.Values{"type": {"disbursement"}, "amount_usd": {"0"}, "date": {"2025-04-01"}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-amount-usd-err">Enter a value from US$1 to US$9,999,999,999.`)
	p = d.post(prjURL, prjURL+"/transactions", url.Values{"type": {"disbursement"}, "amount_usd": {"100000"}, "date": {"2025-04-01"}})
	require.Equal(t, 303, p.Status, p.Body)
	p = d.get(prjURL)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "committed US$300,000")
	assert.Contains(t, p.Body, "disbursed US$100,000")
	assert.Contains(t, p.Body, "gap US$100,000")
	assert.Contains(t, p.Body, `<rect class="fb-committed" width="75" height="10"/>`, "the bar is drawn with SVG attributes")
	p = d.post(prjURL, prjURL+"/status", url.Values{"status": {"2"}})
	require.Equal(t, 303, p.Status)
	assert.Contains(t, d.get(prjURL).Body, "Implementation")

	// The ministry sees the project but may not record money.
	p = m.get(prjURL)
	assertPage(t, p, 200)
	assert.NotContains(t, p.Body, "Record the transaction")
	assert.Equal(t, 403, m.post(prjURL, prjURL+"/transactions", url.Values{"type": {"commitment"}, "amount_usd": {"1"}, "date": {"2025-01-01"}}).Status)

	// Coordinators: the pipeline, the funding-gap chart and the map of active projects.
	c := s.browser()
	c.signIn(s.fx.coord)
	p = c.get("/engagements?status=agreed")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "National CSIRT")
	p = c.get("/coordinator/funding?by=country")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `href="/countries/SN">Senegal</a>`)
	assert.Contains(t, p.Body, "committed US$300,000")
	assertPage(t, c.get("/coordinator/funding?by=capability"), 200)
	p = c.get("/map?metric=projects")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Senegal: 1 active project")
	assertPage(t, m.get("/coordinator/funding"), 403)
}

// startProject runs an open need and offer through a proposal (the ministry's) and its
// acceptance (the donor's) to a project the donor starts, in the pipeline status.
func (s *stack) startProject() *service.ProjectView {
	t := s.t
	ctx := context.Background()
	n := s.openNeed("National CSIRT")
	o := s.openOffer("Francophone CSIRT programme")
	e, _, err := s.app.Engagements.Propose(ctx, s.actor(s.fx.ministry), service.EngagementInput{NeedID: n.ID, OfferID: o.ID})
	require.NoError(t, err)
	d := s.actor(s.fx.donor)
	_, err = s.app.Engagements.Accept(ctx, d, e.ID)
	require.NoError(t, err)
	v, _, err := s.app.Projects.Create(ctx, d, service.ProjectInput{EngagementID: e.ID, Title: "National CSIRT project", BudgetUSD: 400000,
		StartDate: "2030-03-01", EndDate: "2031-08-31"})
	require.NoError(t, err)
	return v
}

// project is the project as the store holds it now.
func (s *stack) project(id string) *models.Project {
	p, err := s.store.GetProject(context.Background(), id)
	require.NoError(s.t, err)
	return p
}

func TestProjectResultsDocumentsAndClosing(t *testing.T) {
	s := newStack(t)
	s.seed()
	v := s.startProject()
	prjURL := "/projects/" + v.ID

	d := s.browser()
	d.signIn(s.fx.donor)
	p := d.get(prjURL)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `action="/projects/`+v.ID+`/results#results"`)
	assert.Contains(t, p.Body, `action="/projects/`+v.ID+`/documents#documents"`)
	assert.Contains(t, p.Body, "No results recorded yet.")
	assert.Contains(t, p.Body, `<option value="2">Implementation</option><option value="5">Cancelled</option><option value="6">Suspended</option></select>`,
		"the status form offers the moves a pipeline project can make, and only those")

	// Bad inputs come back next to their fields and change nothing.
	p = d.post(prjURL, prjURL+"/results", url.Values{"result_type": {"output"}, "result_title": {" "}, "result_baseline": {"x"},
		"result_target": {"-3"}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-result-title-err">This field is required.`)
	assert.Contains(t, p.Body, `id="f-result-baseline-err">Enter a whole number, digits only.`)
	assert.Contains(t, p.Body, `id="error-summary"`)
	p = d.post(prjURL, prjURL+"/results", url.Values{"result_type": {"impact"}, "result_title": {"Trained analysts"}, "result_target": {"-3"}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-result-type-err">Choose one of output or outcome.`, "the service's own validation, mapped to the field")
	assert.Contains(t, p.Body, `id="f-result-target-err">Enter a value from 0 to 1,000,000,000.`)
	assert.Contains(t, p.Body, `value="Trained analysts"`, "what was typed is kept")
	p = d.post(prjURL, prjURL+"/documents", url.Values{"doc_title": {"Terms of reference"}, "doc_url": {"ftp://example.org/tor.pdf"},
		"doc_category": {"A07"}, "doc_language": {"zz"}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-doc-url-err">Enter a full web address starting with https:// or http://.`)
	assert.Contains(t, p.Body, `id="f-doc-language-err">Unknown language code “zz”: use an ISO 639-1 code such as fr.`)
	p = d.post(prjURL, prjURL+"/documents", url.Values{"doc_title": {"Terms of reference"}, "doc_url": {"https://example.org/tor.pdf"},
		"doc_category": {"Z99"}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-doc-category-err">Choose one of the options.`)
	got := s.project(v.ID)
	assert.Empty(t, got.Results)
	assert.Empty(t, got.Documents)
	assert.Equal(t, v.Version, got.Version, "no bad input changed the project")

	// Through finalisation to a refused close: the reason is shown at the status form.
	for _, st := range []string{"2", "3"} {
		p = d.post(prjURL, prjURL+"/status", url.Values{"status": {st}})
		require.Equal(t, 303, p.Status, p.Body)
	}
	p = d.post(prjURL, prjURL+"/status", url.Values{"status": {"4"}})
	assertPage(t, p, 409)
	assert.Contains(t, p.Body, `id="f-status-err">The project cannot be closed yet: record its results first`)
	assert.Contains(t, p.Body, `<option value="4" selected>Closed</option>`)
	assert.Equal(t, models.StatusFinalisation, s.project(v.ID).Status)
	d.lang = "fr"
	p = d.post(prjURL, prjURL+"/status", url.Values{"status": {"4"}})
	assertPage(t, p, 409)
	assert.Contains(t, p.Body, "Le projet ne peut pas encore être clôturé : enregistrez d&#39;abord ses résultats")
	d.lang = ""
	p = d.post(prjURL, prjURL+"/status", url.Values{"status": {"x"}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-status-err">Choose one of the options.`)

	// A result and a document, then the close goes through and fulfils the need.
	p = d.post(prjURL, prjURL+"/results", url.Values{"result_type": {"outcome"}, "result_title": {"CSIRT at SIM3 stage 3"},
		"result_description": {"Assessed by peers."}, "result_baseline": {"1"}, "result_target": {"3"}, "result_achieved": {"3"}})
	require.Equal(t, 303, p.Status, p.Body)
	assert.Equal(t, prjURL+"?ok=result_added#results", p.Header.Get("Location"))
	p = d.post(prjURL, prjURL+"/documents", url.Values{"doc_title": {"Final evaluation"}, "doc_url": {" https://example.org/eval.pdf "},
		"doc_category": {"A07"}, "doc_language": {"FR"}})
	require.Equal(t, 303, p.Status, p.Body)
	p = d.get(prjURL + "?ok=document_added")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "The document was linked to the project.")
	assert.Contains(t, p.Body, `<td>Outcome</td><th scope="row">CSIRT at SIM3 stage 3<span class="hint block">Assessed by peers.</span></th><td class="num">1</td><td class="num">3</td><td class="num">3</td>`)
	assert.Contains(t, p.Body, `<a href="https://example.org/eval.pdf" rel="noopener noreferrer">Final evaluation</a> <span class="meta">Review and evaluation · French</span>`)
	got = s.project(v.ID)
	require.Len(t, got.Results, 1)
	assert.Equal(t, 3, *got.Results[0].Achieved)
	require.Len(t, got.Documents, 1)
	assert.Equal(t, models.Document{Title: "Final evaluation", URL: "https://example.org/eval.pdf", Category: "A07", Language: "fr"}, got.Documents[0])
	p = d.post(prjURL, prjURL+"/status", url.Values{"status": {"4"}})
	require.Equal(t, 303, p.Status, p.Body)
	p = d.get(prjURL)
	assert.Contains(t, p.Body, "This project is closed or cancelled")
	assert.NotContains(t, p.Body, `id="f-status"`)
	n, err := s.app.Needs.Get(context.Background(), s.actor(s.fx.coord), v.NeedID)
	require.NoError(t, err)
	assert.Equal(t, models.NeedFulfilled, n.Status)
	// A move from a page that went stale is refused with the reason, not a 500.
	p = d.post(prjURL, prjURL+"/status", url.Values{"status": {"2"}})
	assertPage(t, p, 409)
	assert.Contains(t, p.Body, `A project in status “Closed” cannot move to “Implementation”.`)

	// Coordinators have the forms too.
	c := s.browser()
	c.signIn(s.fx.coord)
	p = c.get(prjURL)
	assert.Contains(t, p.Body, "Record the result")
	assert.Contains(t, p.Body, "Link the document")
}

func TestProjectFormsRefuseWhoMayNotUseThem(t *testing.T) {
	s := newStack(t)
	s.seed()
	v := s.startProject()
	prjURL := "/projects/" + v.ID

	// The need's ministry sees the project but none of its forms, and its posts are refused
	// (whether the input is good or bad) without changing anything.
	m := s.browser()
	m.signIn(s.fx.ministry)
	p := m.get(prjURL)
	assertPage(t, p, 200)
	for _, form := range []string{"/results", "/documents", "/status", "/transactions"} {
		assert.NotContains(t, p.Body, `action="`+prjURL+form, form)
	}
	good := map[string]url.Values{
		"/results":   {"result_type": {"output"}, "result_title": {"Analysts trained"}},
		"/documents": {"doc_title": {"ToR"}, "doc_url": {"https://example.org/tor.pdf"}},
		"/status":    {"status": {"2"}},
	}
	bad := map[string]url.Values{
		"/results":   {"result_type": {"output"}, "result_title": {""}},
		"/documents": {"doc_title": {"ToR"}, "doc_url": {"nope"}},
		"/status":    {"status": {"x"}},
	}
	for _, tc := range []map[string]url.Values{good, bad} {
		for path, form := range tc {
			p = m.post(prjURL, prjURL+path, form)
			assertPage(t, p, 403)
			assert.Contains(t, p.Body, "Not allowed", path)
		}
	}
	// A ministry of another country sees the project (its need is public) but may not change
	// it; a project nobody may see is not found.
	f := s.browser()
	f.signIn(s.fx.ministry2)
	assertPage(t, f.get(prjURL), 200)
	assertPage(t, f.post("/notifications", prjURL+"/results", good["/results"]), 403)
	assertPage(t, f.post("/notifications", "/projects/prj-nosuchproject/documents", good["/documents"]), 404)
	// Without a session: to the sign-in page; without a CSRF token: refused.
	d := s.browser()
	d.signIn(s.fx.donor)
	p = d.do("POST", prjURL+"/results", good["/results"])
	assertPage(t, p, 403)
	assert.Contains(t, p.Body, "This form has expired")
	anon := s.browser()
	anon.get("/signin")
	assert.Equal(t, 303, anon.do("POST", prjURL+"/documents", url.Values{"_csrf": {"x"}}).Status)

	got := s.project(v.ID)
	assert.Empty(t, got.Results)
	assert.Empty(t, got.Documents)
	assert.Equal(t, models.StatusPipeline, got.Status)
	assert.Equal(t, v.Version, got.Version)
}

func TestStatusFormOffersTheMovesTheServiceAllows(t *testing.T) {
	s := newStack(t)
	s.seed()
	v := s.startProject()
	ctx := context.Background()
	coord := s.actor(s.fx.coord)
	// with a result, so that closing depends on the lifecycle alone
	res := []models.Result{{Type: models.ResultOutput, Title: "Analysts trained"}}
	_, err := s.app.Projects.Patch(ctx, coord, v.ID, service.ProjectPatch{Results: &res}, nil)
	require.NoError(t, err)
	set := func(st models.ActivityStatus) {
		cur := s.project(v.ID)
		next := *cur
		next.Status, next.Version = st, cur.Version+1
		require.NoError(t, s.store.ReplaceProject(ctx, &next, cur.Version))
		s.h.Reload(ctx, models.EventProject, next.ID)
	}
	option := regexp.MustCompile(`<select id="f-status" name="status">(.*?)</select>`)
	b := s.browser()
	b.signIn(s.fx.coord)
	for from := models.StatusPipeline; from <= models.StatusSuspended; from++ {
		set(from)
		var offered []string
		if m := option.FindStringSubmatch(b.get("/projects/" + v.ID).Body); m != nil {
			for _, o := range regexp.MustCompile(`value="(\d)"`).FindAllStringSubmatch(m[1], -1) {
				offered = append(offered, o[1])
			}
		}
		var allowed []string
		for to := models.StatusPipeline; to <= models.StatusSuspended; to++ {
			set(from)
			if _, err := s.app.Projects.SetStatus(ctx, coord, v.ID, to, ""); err == nil {
				allowed = append(allowed, strconv.Itoa(int(to)))
			}
		}
		sort.Strings(offered)
		assert.Equal(t, allowed, offered, "from status %d", from)
	}
}

func TestAllocationProposalPage(t *testing.T) {
	s := newStack(t)
	s.seed()
	n := s.openNeed("National CSIRT")
	o := s.openOffer("Francophone CSIRT programme")

	c := s.browser()
	c.signIn(s.fx.coord)
	p := c.get("/coordinator")
	assert.Contains(t, p.Body, `href="/coordinator/allocation"`, "the workspace links the proposal")
	p = c.get("/coordinator/allocation")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `aria-current="page">Allocation proposal</a>`)
	assert.Contains(t, p.Body, `<th scope="row"><a href="/offers/`+o.ID+`">Francophone CSIRT programme</a><span class="hint block">Francophone CSIRT Programme</span></th>`)
	assert.Contains(t, p.Body, `<td><a href="/needs/`+n.ID+`">National CSIRT</a><span class="hint block">Senegal</span></td>`)
	items, err := s.app.Matching.Allocation(context.Background(), s.actor(s.fx.coord))
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Contains(t, p.Body, `value="`+strconv.FormatFloat(items[0].Score, 'g', -1, 64)+`"`, "the score the service proposed")
	assert.Contains(t, p.Body, "1 pairing")
	c.lang = "es"
	assert.Contains(t, c.get("/coordinator/allocation").Body, "Propuesta de asignación")

	for _, who := range []string{s.fx.ministry, s.fx.donor} {
		b := s.browser()
		b.signIn(who)
		assertPage(t, b.get("/coordinator/allocation"), 403)
		assert.NotContains(t, b.get("/needs").Body, `href="/coordinator/allocation"`, "only coordinators are shown the link")
	}
	p = s.browser().get("/coordinator/allocation")
	assert.Equal(t, 303, p.Status)
	assert.Equal(t, "/signin?next=%2Fcoordinator%2Fallocation", p.Header.Get("Location"))
}

func TestAllocationPageWithNothingToPropose(t *testing.T) {
	s := newStack(t)
	s.seed()
	c := s.browser()
	c.signIn(s.fx.coord)
	p := c.get("/coordinator/allocation")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "No pairing to propose")
	assert.NotContains(t, c.get("/coordinator").Body, `href="/export/iati.xml"`, "no IATI link while there is no project")
}

func TestIATIExportFromTheProjectsList(t *testing.T) {
	s := newStack(t)
	s.seed()
	v := s.startProject()

	c := s.browser()
	c.signIn(s.fx.coord)
	p := c.get("/projects?country=SN")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `<a href="/export/iati.xml?country=SN" download>Download the IATI file (XML)</a>`)
	assert.Contains(t, c.get("/projects").Body, `<a href="/export/iati.xml" download>`)
	assert.Contains(t, c.get("/coordinator").Body, `<a href="/export/iati.xml" download>`)
	p = c.get("/export/iati.xml?country=SN")
	require.Equal(t, 200, p.Status, p.Body)
	assert.Equal(t, "application/xml; charset=utf-8", p.Header.Get("Content-Type"))
	assert.Contains(t, p.Header.Get("Content-Disposition"), `attachment; filename="capmatch-iati-activities.xml"`)
	assert.Contains(t, p.Body, `<iati-activities`)
	assert.Contains(t, p.Body, "National CSIRT project")
	assert.Contains(t, p.Body, v.IATIIdentifier)
	// Bad or empty selections are error pages, not 500s.
	assertPage(t, c.get("/export/iati.xml?country=FJ"), 404)
	assertPage(t, c.get("/export/iati.xml?country=XX1"), 422)

	// Donors and ministries are not shown the link; visitors are sent to sign in.
	for _, who := range []string{s.fx.donor, s.fx.ministry} {
		b := s.browser()
		b.signIn(who)
		assert.NotContains(t, b.get("/projects").Body, "/export/iati.xml")
	}
	p = s.browser().get("/export/iati.xml")
	assert.Equal(t, 303, p.Status)
}

func TestNotificationsPageListsTheFeedNewestFirst(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	n := s.openNeed("National CSIRT") // the coordinators are told it awaits approval, the ministry that it was approved
	o := s.openOffer("Francophone CSIRT programme")
	_, _, err := s.app.Engagements.Propose(ctx, s.actor(s.fx.donor), service.EngagementInput{NeedID: n.ID, OfferID: o.ID})
	require.NoError(t, err)

	m := s.browser()
	m.signIn(s.fx.ministry)
	p := m.get("/ministry")
	assert.Contains(t, p.Body, `<a href="/notifications">Notifications</a>`, "every signed-in page links the feed")
	p = m.get("/notifications")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `aria-current="page">Notifications</a>`)
	proposal := strings.Index(p.Body, "An engagement was proposed to you")
	approved := strings.Index(p.Body, `<a href="/needs/`+n.ID+`">Your need was approved</a>`)
	require.Positive(t, proposal, p.Body)
	require.Positive(t, approved)
	assert.Less(t, proposal, approved, "newest first")
	assert.Contains(t, p.Body, "Your need “National CSIRT” was approved and is open for offers")
	m.lang = "es"
	assert.Contains(t, m.get("/notifications").Body, "Su necesidad «National CSIRT» fue aprobada y está abierta a ofertas", "in the reader's language")
	m.lang = ""
	assert.Contains(t, p.Body, `class="item unread"`)
	assert.Contains(t, p.Body, "unread notifications")

	// Mark all read: a CSRF-checked POST, then the page again.
	assertPage(t, m.do("POST", "/notifications/read-all", url.Values{}), 403)
	p = m.post("/notifications", "/notifications/read-all", nil)
	require.Equal(t, 303, p.Status, p.Body)
	p = m.get(p.Header.Get("Location"))
	assert.Contains(t, p.Body, "Every notification is marked as read.")
	assert.Contains(t, p.Body, "0 unread notifications")
	assert.NotContains(t, p.Body, `class="item unread"`)
	assert.NotContains(t, p.Body, `action="/notifications/read-all"`, "nothing left to mark")

	// Coordinators read the coordinators' feed; another ministry's feed is its own.
	c := s.browser()
	c.signIn(s.fx.coord)
	c.lang = "fr"
	p = c.get("/notifications")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `<a href="/needs/`+n.ID+`">Un besoin attend sa validation</a>`)
	assert.Contains(t, p.Body, `<p>Un besoin attend sa validation : « National CSIRT » (Sénégal)</p>`, "the text is written in the reader's language")
	f := s.browser()
	f.signIn(s.fx.ministry2)
	p = f.get("/notifications")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "No notifications yet.")
	assert.NotContains(t, p.Body, "National CSIRT")

	p = s.browser().get("/notifications")
	assert.Equal(t, 303, p.Status)
	assert.Equal(t, "/signin?next=%2Fnotifications", p.Header.Get("Location"))
}
