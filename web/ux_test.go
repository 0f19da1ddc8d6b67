package web_test

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ministryOf creates a government organization of the country with a ministry user and returns
// the user's e-mail.
func (s *stack) ministryOf(iso string) string {
	ctx := context.Background()
	o, err := s.app.Accounts.CreateOrgDirect(ctx, service.OrgInput{Name: "Ministry of " + iso, Type: models.OrgGovernment, Country: iso})
	require.NoError(s.t, err)
	email := "official@" + strings.ToLower(iso) + ".example"
	_, err = s.app.Accounts.CreateUser(ctx, nil, service.UserInput{Email: email, Password: pw, Name: "Official " + iso,
		Role: models.RoleMinistry, OrganizationID: o.ID})
	require.NoError(s.t, err)
	return email
}

// openNeedOf posts a need as that ministry and has the coordinator approve it.
func (s *stack) openNeedOf(email, title string) *models.Need {
	ctx := context.Background()
	m := s.actor(email)
	n, err := s.app.Needs.Create(ctx, m, needInput(title))
	require.NoError(s.t, err)
	_, err = s.app.Needs.Transition(ctx, m, n.ID, models.NeedSubmit, "")
	require.NoError(s.t, err)
	n, err = s.app.Needs.Transition(ctx, s.actor(s.fx.coord), n.ID, models.NeedApprove, "")
	require.NoError(s.t, err)
	return n
}

// TestCountsUsePluralRules: "1 open need", not "1 open needs", in every language, with each
// language's own rule (French counts 0 as singular).
func TestCountsUsePluralRules(t *testing.T) {
	s := newStack(t)
	s.seed()
	s.openNeed("National CSIRT")
	for _, tc := range []struct{ lang, country, home, fiji string }{
		{"en", "<strong>1</strong> open need</li>", "<strong>1</strong> open need</a>", "<strong>0</strong> open needs</li>"},
		{"fr", "<strong>1</strong> besoin ouvert</li>", "<strong>1</strong> besoin ouvert</a>", "<strong>0</strong> besoin ouvert</li>"},
		{"es", "<strong>1</strong> necesidad abierta</li>", "<strong>1</strong> necesidad abierta</a>", "<strong>0</strong> necesidades abiertas</li>"},
	} {
		b := s.browser()
		b.lang = tc.lang
		assert.Contains(t, b.get("/countries/SN").Body, tc.country, tc.lang)
		assert.Contains(t, b.get("/countries/FJ").Body, tc.fiji, tc.lang)
		home := b.get("/").Body
		assert.Contains(t, home, tc.home, tc.lang)
		assert.NotRegexp(t, `<strong>1</strong> (open needs|open offers|countries|besoins|offres|necesidades|ofertas|países)`, home, tc.lang)
	}
}

// TestMapTableSortsByLocalizedName: the table under the map lists countries by their name in
// the reader's language (Cambodia before Jamaica, though KH sorts after JM).
func TestMapTableSortsByLocalizedName(t *testing.T) {
	s := newStack(t)
	s.seed()
	s.openNeedOf(s.ministryOf("JM"), "Jamaica CSIRT")
	s.openNeedOf(s.ministryOf("KH"), "Cambodia CSIRT")
	s.openNeedOf(s.ministryOf("CI"), "Côte d'Ivoire CSIRT")
	s.openNeed("Senegal CSIRT")
	table := regexp.MustCompile(`(?s)<section aria-labelledby="table-h">.*?</section>`)
	row := regexp.MustCompile(`<th scope="row"><a href="/countries/([A-Z]{2})">`)
	order := func(lang string) []string {
		b := s.browser()
		b.lang = lang
		p := b.get("/map")
		assertPage(t, p, 200)
		var isos []string
		for _, m := range row.FindAllStringSubmatch(table.FindString(p.Body), -1) {
			isos = append(isos, m[1])
		}
		return isos
	}
	assert.Equal(t, []string{"KH", "CI", "JM", "SN"}, order("en"), "Cambodia, Côte d’Ivoire, Jamaica, Senegal")
	assert.Equal(t, []string{"KH", "CI", "JM", "SN"}, order("fr"), "Cambodge, Côte d’Ivoire, Jamaïque, Sénégal")
	assert.Equal(t, []string{"KH", "CI", "JM", "SN"}, order("es"), "Camboya, Côte d’Ivoire, Jamaica, Senegal")
}

// TestCountriesListsUNStatesUnlessAskedForAll: /countries lists the 193 member states and the
// 2 observer states; every ISO territory (Antarctica, Bouvet Island) only on request.
func TestCountriesListsUNStatesUnlessAskedForAll(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	p := b.get("/countries")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "<caption>195 countries ") // then the hint on sorting the columns (issue 17.3)
	assert.NotContains(t, p.Body, `href="/countries/AQ"`, "no Antarctica by default")
	assert.Contains(t, p.Body, `href="/countries/VA"`, "observer states are listed")
	assert.Contains(t, p.Body, `href="/countries/PS"`)
	assert.Contains(t, p.Body, `name="all" type="checkbox" value="1" aria-describedby="f-all-hint">`)
	p = b.get("/countries?all=1")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "<caption>"+strconv.Itoa(len(models.Countries()))+" countries ")
	assert.Contains(t, p.Body, `href="/countries/AQ"`)
	assert.Contains(t, p.Body, `name="all" type="checkbox" value="1" checked`)
}

// TestRegionFilterListsEveryM49Level: the region filter offers the sub-regions and
// intermediate regions offers are made eligible by (Western Africa, the Caribbean), indented
// under their parents, and filters by them.
func TestRegionFilterListsEveryM49Level(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	p := b.get("/countries")
	for _, code := range []string{"002", "202", "011", "019", "419", "029", "009", "061"} {
		assert.Contains(t, p.Body, `<option value="`+code+`"`, code)
	}
	africa := strings.Index(p.Body, `<option value="002">Africa</option>`)
	ssa := strings.Index(p.Body, `<option value="202">`+"\u00a0\u00a0\u00a0"+`Sub-Saharan Africa</option>`)
	west := strings.Index(p.Body, `<option value="011">`+strings.Repeat("\u00a0", 6)+`Western Africa</option>`)
	require.Positive(t, africa)
	assert.Less(t, africa, ssa, "sub-regions follow their region, indented")
	assert.Less(t, ssa, west, "intermediate regions follow their sub-region, indented twice")
	p = b.get("/countries?region=011")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `href="/countries/SN"`)
	assert.NotContains(t, p.Body, `href="/countries/KE"`)
	assert.Contains(t, p.Body, `<option value="011" selected>`)
	p = b.get("/countries?region=029")
	assert.Contains(t, p.Body, `href="/countries/JM"`)
	assert.NotContains(t, p.Body, `href="/countries/MX"`)
}

// TestFaviconIsServed: /favicon.ico is an icon, not a 404, and every page links it.
func TestFaviconIsServed(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	p := b.get("/favicon.ico")
	require.Equal(t, 200, p.Status)
	assert.Equal(t, "image/x-icon", p.Header.Get("Content-Type"))
	assert.True(t, bytes.HasPrefix([]byte(p.Body), []byte{0, 0, 1, 0}), "an ICO file")
	assert.Contains(t, p.Header.Get("Cache-Control"), "max-age=")
	assert.Regexp(t, `<link rel="icon" href="/static/favicon.ico\?v=[0-9a-f]+">`, b.get("/").Body)
}

var headingRe = regexp.MustCompile(`<h([1-6])[\s>]`)

// assertHeadingOrder checks that a page has one h1, first, and never skips a level going
// down (an h1 followed by an h3 leaves screen-reader users wondering what they missed).
func assertHeadingOrder(t *testing.T, path, body string) {
	t.Helper()
	prev, h1 := 0, 0
	for _, m := range headingRe.FindAllStringSubmatch(body, -1) {
		lvl, _ := strconv.Atoi(m[1])
		if lvl == 1 {
			h1++
		}
		if lvl > prev+1 {
			assert.Failf(t, "heading skips a level", "%s: h%d follows h%d", path, lvl, prev)
			return
		}
		prev = lvl
	}
	assert.Equal(t, 1, h1, "%s has one h1", path)
}

// TestHeadingsNeverSkipALevel walks every page as each role it is for.
func TestHeadingsNeverSkipALevel(t *testing.T) {
	s := newStack(t)
	s.seed()
	v := s.startProject()
	n := s.openNeed("Cybercrime law")
	o := s.openOffer("Cybercrime programme")
	draft, err := s.app.Needs.Create(context.Background(), s.actor(s.fx.ministry), needInput("Draft strategy"))
	require.NoError(t, err)
	public := []string{"/", "/needs", "/needs?q=csirt", "/needs/" + n.ID, "/offers", "/offers/" + o.ID, "/countries", "/countries/SN",
		"/map", "/signin", "/no/such/page"}
	signedIn := append(append([]string{}, public[:len(public)-2]...), "/engagements", "/engagements/"+v.EngagementID, "/projects",
		"/projects/"+v.ID, "/notifications")
	pages := map[string][]string{
		"": public,
		s.fx.ministry: append(append([]string{}, signedIn...), "/ministry", "/ministry/needs/new", "/ministry/needs/new?theme=cybercrime",
			"/ministry/needs/"+draft.ID+"/edit", "/countries/SN/readiness"),
		s.fx.donor: append(append([]string{}, signedIn...), "/donor", "/donor/offers/new", "/donor/offers/"+o.ID+"/edit"),
		s.fx.coord: append(append([]string{}, signedIn...), "/coordinator", "/coordinator/weights", "/coordinator/funding",
			"/coordinator/allocation", "/countries/SN/readiness"),
	}
	for who, paths := range pages {
		b := s.browser()
		if who != "" {
			b.signIn(who)
		}
		for _, path := range paths {
			p := b.get(path)
			require.Contains(t, []int{200, 404}, p.Status, "%s as %q", path, who)
			assertHeadingOrder(t, path+" as "+who, p.Body)
		}
	}
	// A form that comes back with errors keeps the order (the error summary is an h2).
	b := s.browser()
	b.signIn(s.fx.donor)
	p := b.post("/donor/offers/new", "/donor/offers", url.Values{"title": {""}})
	require.Equal(t, 422, p.Status)
	assertHeadingOrder(t, "offer form with errors", p.Body)
}

// TestApprovalQueueIsOldestFirst: the need waiting longest comes first, whatever the priority.
func TestApprovalQueueIsOldestFirst(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	m := s.actor(s.fx.ministry)
	var ids []string
	for _, tc := range []struct {
		title string
		prio  models.Priority
	}{{"Oldest, low priority", models.PriorityLow}, {"Middle, medium priority", models.PriorityMedium}, {"Newest, high priority", models.PriorityHigh}} {
		in := needInput(tc.title)
		in.Priority = tc.prio
		n, err := s.app.Needs.Create(ctx, m, in)
		require.NoError(t, err)
		_, err = s.app.Needs.Transition(ctx, m, n.ID, models.NeedSubmit, "")
		require.NoError(t, err)
		ids = append(ids, n.ID)
		s.clock.advance(time.Minute)
	}
	c := s.browser()
	c.signIn(s.fx.coord)
	body := c.get("/coordinator").Body
	first, second, third := strings.Index(body, `id="need-`+ids[0]+`"`), strings.Index(body, `id="need-`+ids[1]+`"`), strings.Index(body, `id="need-`+ids[2]+`"`)
	require.Positive(t, first)
	assert.Less(t, first, second)
	assert.Less(t, second, third)
	queue, err := s.app.Needs.Queue(ctx, s.actor(s.fx.coord), 2)
	require.NoError(t, err)
	require.Len(t, queue, 2, "the limit keeps the oldest")
	assert.Equal(t, ids[:2], []string{queue[0].ID, queue[1].ID})
	_, err = s.app.Needs.Queue(ctx, m, 10)
	assert.ErrorIs(t, err, models.ErrForbidden, "the queue is for coordinators")
}

// TestPublicMeansVisitorsTooAndCERTNeedsDefaultToDonors: the visibility tiers say who really
// sees a need, and CERT and Points-of-Contact needs start as donors-only, in the form and in
// the service (the API's default when the field is omitted).
func TestPublicMeansVisitorsTooAndCERTNeedsDefaultToDonors(t *testing.T) {
	s := newStack(t)
	s.seed()
	n := s.openNeed("National CSIRT")
	for lang, want := range map[string]string{
		"en": "Visible to everyone once a coordinator has approved it, including visitors who are not signed in.",
		"fr": "Visible par tous une fois validé par un coordinateur, y compris les visiteurs non connectés.",
		"es": "Visible para todos una vez aprobada por un coordinador, incluidos los visitantes que no han iniciado sesión.",
	} {
		b := s.browser()
		b.lang = lang
		body := b.get("/needs/" + n.ID).Body
		assert.Contains(t, body, want, lang)
		assert.NotContains(t, body, "signed-in user", lang)
		assert.NotContains(t, body, "utilisateur connecté", lang)
	}

	b := s.browser()
	b.signIn(s.fx.ministry)
	tok := csrf(t, b.get("/ministry/needs/new"))
	for cap, want := range map[string]string{"cert_setup": "donors", "cert_maturity": "donors", "poc_readiness": "donors",
		"cyber_exercises": "public", "legal_position": "public"} {
		theme, _ := models.CapabilityTheme(models.Capability(cap))
		p := b.do("POST", "/ministry/needs", url.Values{"_csrf": {tok}, "op": {"refresh"}, "theme": {string(theme)}, "capability": {cap}})
		assertPage(t, p, 200)
		assert.Regexp(t, `name="visibility" id="vis-`+want+`" value="`+want+`" checked`, p.Body, cap)
	}

	ctx := context.Background()
	for cap, want := range map[models.Capability]models.Visibility{models.CapCERTSetup: models.VisibilityDonors,
		models.CapPoCReadiness: models.VisibilityDonors, models.CapCyberExercises: models.VisibilityPublic} {
		in := needInput("Default for " + string(cap))
		in.Theme, _ = models.CapabilityTheme(cap)
		in.Capability, in.Visibility, in.Maturity = cap, "", nil
		got, err := s.app.Needs.Create(ctx, s.actor(s.fx.ministry), in)
		require.NoError(t, err)
		assert.Equal(t, want, got.Visibility, cap)
	}
}

// navOf returns the top-level entries of the main navigation and every link in it.
func navOf(t *testing.T, body string) (top int, links []string) {
	t.Helper()
	nav := regexp.MustCompile(`(?s)<nav class="main-nav"[^>]*>\s*<ul>(.*?)</ul>\s*</nav>`).FindStringSubmatch(body)
	require.NotNil(t, nav, "the page has the main navigation")
	depth := 0
	for _, tok := range regexp.MustCompile(`<li[\s>]|</li>`).FindAllString(nav[1], -1) {
		if tok == "</li>" {
			depth--
			continue
		}
		if depth == 0 {
			top++
		}
		depth++
	}
	for _, m := range regexp.MustCompile(`<a href="([^"]+)"`).FindAllStringSubmatch(nav[1], -1) {
		links = append(links, m[1])
	}
	return top, links
}

// TestNavigationFitsEachRole: every role reaches the map and all needs; the coordinators'
// fourteen entries are grouped into a few menus that open without JavaScript.
func TestNavigationFitsEachRole(t *testing.T) {
	s := newStack(t)
	s.seed()
	for _, tc := range []struct {
		who    string
		maxTop int
		links  []string
	}{
		{s.fx.ministry, 7, []string{"/ministry", "/ministry/needs/new", "/engagements", "/projects", "/countries/SN/readiness", "/needs",
			"/offers", "/map", "/countries", "/notifications"}},
		{s.fx.donor, 6, []string{"/donor", "/donor/offers/new", "/engagements", "/projects", "/needs", "/offers", "/map", "/countries",
			"/notifications"}},
		{s.fx.coord, 5, []string{"/coordinator", "/engagements", "/projects", "/coordinator/funding", "/coordinator/allocation", "/coordinator/poc-checks",
			"/needs", "/offers", "/map", "/countries", "/coordinator/weights", "/notifications"}},
		{"", 4, []string{"/needs", "/offers", "/map", "/countries"}},
	} {
		b := s.browser()
		if tc.who != "" {
			b.signIn(tc.who)
		}
		p := b.get("/countries")
		top, links := navOf(t, p.Body)
		assert.LessOrEqual(t, top, tc.maxTop, "%q: top-level entries", tc.who)
		assert.ElementsMatch(t, tc.links, links, tc.who)
		if tc.who != "" {
			assert.Contains(t, p.Body, `<li class="menu" id="menu-browse"><details>`, "grouped in a disclosure menu that needs no script")
			assert.Regexp(t, `<summary class="current">[^<]+</summary>\s*<ul><li><a href="/needs">`, p.Body,
				"the closed menu says the current page is in it")
			assert.Contains(t, p.Body, `<a href="/countries" aria-current="page">`)
		}
	}
}

// TestWhoIsBehindNeedsAndOffers: lists and pages name the organization behind each need and
// offer; an offer's published contact is shown to signed-in users and never to visitors.
func TestWhoIsBehindNeedsAndOffers(t *testing.T) {
	s := newStack(t)
	s.seed()
	n := s.openNeed("National CSIRT")
	d := s.browser()
	d.signIn(s.fx.donor)
	form := url.Values{"title": {"Francophone CSIRT programme"}, "themes": {"incident_management"}, "capabilities": {"cert_setup"},
		"modalities": {"training"}, "languages": {"fr"}, "eligible_regions": {"002"}, "budget_usd": {"2000000"}, "max_engagements": {"4"},
		"available_from": {"2029-01-01"}, "available_until": {"2032-12-31"}, "op": {"publish"},
		"contact_name": {"Programme desk"}, "contact_email": {"not an address"}}
	p := d.post("/donor/offers/new", "/donor/offers", form)
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-contact-email-err">Enter one plain e-mail address, like name@example.org.`)
	form.Set("contact_email", "")
	p = d.post("/donor/offers/new", "/donor/offers", form)
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-contact-email-err">Give the programme&#39;s e-mail address too: a contact name needs one.`, "a name without an address reaches nobody")
	form.Set("contact_email", "csirt-desk@programme.example")
	p = d.post("/donor/offers/new", "/donor/offers", form)
	require.Equal(t, 303, p.Status, p.Body)
	offers := s.h.Offers()
	require.Len(t, offers, 1)
	o := offers[0]
	assert.Equal(t, "csirt-desk@programme.example", o.ContactEmail)
	assert.Contains(t, d.get("/donor/offers/"+o.ID+"/edit").Body, `value="csirt-desk@programme.example"`)

	const donorOrg, ministryOrg = "Francophone CSIRT Programme", "Ministry of Foreign Affairs of Senegal"
	contact := `<a href="mailto:csirt-desk@programme.example">csirt-desk@programme.example</a>`
	anon := s.browser()
	for _, b := range []*browser{anon, d} {
		body := b.get("/offers").Body
		assert.Contains(t, body, `<a class="org" href="/offers?org=`+o.OrganizationID+`">`+donorOrg+`</a>`)
		body = b.get("/offers/" + o.ID).Body
		assert.Contains(t, body, `<dd>`+donorOrg+` · <a href="/offers?org=`+o.OrganizationID+`">all its offers</a></dd>`)
		body = b.get("/needs").Body
		assert.Contains(t, body, `<span class="org">`+ministryOrg+`</span>`)
		body = b.get("/needs/" + n.ID).Body
		assert.Contains(t, body, `<dt>Posted by</dt><dd>`+ministryOrg+`</dd>`)
		body = b.get("/offers?org=" + o.OrganizationID).Body
		assert.Contains(t, body, "Offers of "+donorOrg+".")
		assert.Contains(t, body, "Francophone CSIRT programme")
	}
	body := anon.get("/offers/" + o.ID).Body
	assert.NotContains(t, body, "csirt-desk@programme.example", "visitors never get the contact")
	assert.NotContains(t, body, "Programme desk")
	assert.Contains(t, body, `<a href="/signin?next=/offers/`+o.ID+`">Sign in to see how to reach the programme</a>`)
	assert.NotContains(t, anon.get("/offers").Body, "csirt-desk@programme.example")

	m := s.browser()
	m.signIn(s.fx.ministry2)
	body = m.get("/offers/" + o.ID).Body
	assert.Contains(t, body, "Programme desk<br>"+contact)
	assertPage(t, s.browser().get("/offers?org=no%20such%20org"), 200)
}

// TestEngagementMessagesReachBothSidesAndCoordinators: the need's ministry, the offer's donor
// and coordinators read and write an engagement's thread, each message labelled by its side.
func TestEngagementMessagesReachBothSidesAndCoordinators(t *testing.T) {
	s := newStack(t)
	s.seed()
	n := s.openNeed("National CSIRT")
	o := s.openOffer("Francophone CSIRT programme")
	e, _, err := s.app.Engagements.Propose(context.Background(), s.actor(s.fx.donor), service.EngagementInput{NeedID: n.ID, OfferID: o.ID,
		Message: "We can deploy two experts."})
	require.NoError(t, err)
	engURL := "/engagements/" + e.ID
	writers := []struct {
		who, body, label string
	}{
		{s.fx.ministry, "When could they arrive?", `<li class="msg side-need"><p class="meta">Ministry · `},
		{s.fx.coord, "The desk can help with logistics.", `<li class="msg side-"><p class="meta">Coordinator · `},
		{s.fx.donor, "In March.", `<li class="msg side-offer"><p class="meta">Donor · `},
	}
	for _, w := range writers {
		b := s.browser()
		b.signIn(w.who)
		p := b.get(engURL)
		assertPage(t, p, 200)
		assert.Contains(t, p.Body, `action="`+engURL+`/message"`, w.who+" may write")
		p = b.post(engURL, engURL+"/message", url.Values{"body": {w.body}})
		require.Equal(t, 303, p.Status, p.Body)
	}
	for _, who := range []string{s.fx.ministry, s.fx.donor, s.fx.coord} {
		b := s.browser()
		b.signIn(who)
		body := b.get(engURL).Body
		last := -1
		for _, msg := range []string{"We can deploy two experts.", "When could they arrive?", "The desk can help with logistics.", "In March."} {
			i := strings.Index(body, msg)
			assert.Greater(t, i, last, "%s reads %q in order", who, msg)
			last = i
		}
		for _, w := range writers {
			assert.Contains(t, body, w.label, who)
		}
	}
	other := s.browser()
	other.signIn(s.fx.ministry2)
	assertPage(t, other.get(engURL), 404)
}

// TestRankedMatchesComeBeforeTheDescription: on a need's and an offer's page the ranked
// matches follow the title and a one-line summary; the long description and the facts come
// after them (on a phone they were ~1,900 px down). The browser test measures it at 360 px.
func TestRankedMatchesComeBeforeTheDescription(t *testing.T) {
	s := newStack(t)
	s.seed()
	n := s.openNeed("National CSIRT")
	o := s.openOffer("Francophone CSIRT programme")
	m := s.browser()
	m.signIn(s.fx.ministry)
	body := m.get("/needs/" + n.ID).Body
	matches := strings.Index(body, `id="matches"`)
	require.Positive(t, matches)
	assert.Less(t, matches, strings.Index(body, "Set up a national CSIRT."), "matches before the description")
	assert.Less(t, matches, strings.Index(body, `<dl class="facts">`), "matches before the facts")
	assert.Contains(t, body, `<a href="#about">About this need</a>`)
	d := s.browser()
	d.signIn(s.fx.donor)
	body = d.get("/offers/" + o.ID).Body
	matches = strings.Index(body, `id="matches"`)
	require.Positive(t, matches)
	assert.Less(t, matches, strings.Index(body, `<dl class="facts">`))
}
