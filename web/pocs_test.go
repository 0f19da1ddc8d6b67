package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	ackHref  = regexp.MustCompile(`href="(/ack/[A-Za-z0-9._-]+)"`)
	checkLoc = regexp.MustCompile(`^/coordinator/poc-checks/([a-z0-9]+)\?ok=check_started$`)
)

// TestPointsOfContactChecksAndAcknowledgementWithoutJavaScript walks the flows with plain forms:
// a ministry keeps its Points of Contact (validated, shown only to those who may see them), a
// coordinator runs a check, the e-mail lands in the outbox, and a contact acknowledges through
// its link without signing in: opening the link confirms nothing, the button does, once.
func TestPointsOfContactChecksAndAcknowledgementWithoutJavaScript(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	ministry := s.browser()
	ministry.signIn(s.fx.ministry)

	// A bad entry: every problem next to its field, nothing stored.
	p := ministry.get("/countries/SN/pocs/new")
	assertPage(t, p, 200)
	bad := url.Values{"_csrf": {csrf(t, p)}, "kind": {"technical"}, "name": {"Awa Ndiaye"}, "email": {"awa at cert"},
		"phone": {"33 889 13 00"}, "languages": {"fr"}}
	p = ministry.do("POST", "/countries/SN/pocs", bad)
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-email-err"`)
	assert.Contains(t, p.Body, `id="f-phone-err"`)
	assert.Contains(t, p.Body, "&#43; and the country code")

	good := url.Values{"_csrf": {csrf(t, p)}, "kind": {"technical"}, "name": {"Awa Ndiaye"}, "role": {"Head of CSIRT-SN"},
		"email": {"awa.ndiaye@cert.sn.example"}, "phone": {"+221 33 889 13 00"}, "languages": {"fr"}, "languages_other": {"wo"}}
	p = ministry.do("POST", "/countries/SN/pocs", good)
	require.Equal(t, 303, p.Status, p.Body)
	p = ministry.get(p.Header.Get("Location"))
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "The Point of Contact was saved")
	assert.Contains(t, p.Body, "Awa Ndiaye")
	assert.Contains(t, p.Body, "&#43;221338891300", "stored in E.164")
	assert.Contains(t, p.Body, "Wolof")

	// Donors, visitors and another state's ministry see the readiness, never the contacts.
	donor := s.browser()
	donor.signIn(s.fx.donor)
	other := s.browser()
	other.signIn(s.fx.ministry2)
	for who, b := range map[string]*browser{"donor": donor, "visitor": s.browser(), "other state": other} {
		p := b.get("/countries/SN")
		assertPage(t, p, 200)
		assert.NotContains(t, p.Body, "Awa Ndiaye", who)
		assert.NotContains(t, p.Body, "awa.ndiaye@", who)
		assert.Contains(t, p.Body, "Points of Contact nominated", who)
	}
	assertPage(t, other.get("/countries/SN/pocs/new"), 404)
	assertPage(t, donor.get("/countries/SN/pocs/new"), 404)

	// The coordinator runs a check on Senegal.
	coord := s.browser()
	coord.signIn(s.fx.coord)
	p = coord.get("/coordinator/poc-checks")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `id="cc-SN"`, "countries with contacts are offered")
	p = coord.do("POST", "/coordinator/poc-checks", url.Values{"_csrf": {csrf(t, p)}, "scope": {"countries"}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, "Give either a list of countries or a region")
	p = coord.do("POST", "/coordinator/poc-checks", url.Values{"_csrf": {csrf(t, p)}, "scope": {"countries"}, "countries": {"SN"}})
	require.Equal(t, 303, p.Status, p.Body)
	m := checkLoc.FindStringSubmatch(p.Header.Get("Location"))
	require.NotNil(t, m, p.Header.Get("Location"))
	checkID := m[1]
	p = coord.get(p.Header.Get("Location"))
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Awa Ndiaye")
	assert.Contains(t, p.Body, "Awaited")

	// The e-mail lands in the outbox, with its link.
	var link string
	require.Eventually(t, func() bool {
		p := coord.get("/coordinator/outbox")
		if m := ackHref.FindStringSubmatch(p.Body); m != nil {
			link = m[1]
			return true
		}
		return false
	}, 10*time.Second, 20*time.Millisecond)
	p = coord.get("/coordinator/outbox")
	assert.Contains(t, p.Body, "awa.ndiaye@cert.sn.example")
	assert.Contains(t, p.Body, "https://capmatch.test"+link, "the e-mail carries the absolute link")
	assertPage(t, ministry.get("/coordinator/outbox"), 403)

	// The ministry's feed has the notice, with the link while it works.
	p = ministry.get("/notifications")
	assert.Contains(t, p.Body, "Communication check: please acknowledge")
	assert.Contains(t, p.Body, `href="`+link+`"`)

	// Opening the link (a person, or a mail scanner) acknowledges nothing.
	contact := s.browser()
	p = contact.get(link)
	assertPage(t, p, 200)
	assert.Equal(t, "no-referrer", p.Header.Get("Referrer-Policy"))
	assert.Contains(t, p.Body, `id="acknowledge"`)
	assert.Contains(t, p.Body, "technical Point of Contact of Senegal")
	assert.NotContains(t, p.Body, "Awa Ndiaye", "the page shows no personal data")
	v, err := s.app.PoCChecks.Get(ctx, s.actor(s.fx.coord), checkID)
	require.NoError(t, err)
	assert.Equal(t, 0, v.Summary.Acknowledged)
	// The button acknowledges, once.
	tok := csrf(t, p)
	p = contact.do("POST", link, url.Values{"_csrf": {tok}})
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `id="ack-done"`)
	assert.NotContains(t, contact.get(link).Body, `id="acknowledge"`, "no button any more")
	p = contact.do("POST", link, url.Values{"_csrf": {tok}})
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `id="ack-already"`)
	assertPage(t, contact.get("/ack/"+strings.Repeat("x", 30)), 404)
	v, err = s.app.PoCChecks.Get(ctx, s.actor(s.fx.coord), checkID)
	require.NoError(t, err)
	assert.Equal(t, 1, v.Summary.Acknowledged)

	// The readiness and the map follow, for everyone.
	p = s.browser().get("/countries/SN")
	assert.Regexp(t, `id="poc-reachable"><span class="yes">Yes</span>`, p.Body)
	p = s.browser().get("/map?metric=pocs")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `aria-label="Senegal: Acknowledged the last check"`)
	p = ministry.get("/notifications")
	assert.NotContains(t, p.Body, `href="`+link+`"`, "the notice no longer links once acknowledged")
	p = coord.get("/coordinator/poc-checks/" + checkID)
	assert.Contains(t, p.Body, "Acknowledged")

	// The ministry edits and removes its contact.
	l, err := s.app.PoCs.List(ctx, s.actor(s.fx.ministry), "SN")
	require.NoError(t, err)
	id := l.Items[0].ID
	p = ministry.get("/countries/SN/pocs/" + id + "/edit")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `value="Awa Ndiaye"`)
	form := url.Values{"_csrf": {csrf(t, p)}, "version": {"1"}, "kind": {"diplomatic"}, "name": {"Awa Ndiaye"},
		"email": {"awa.ndiaye@diplomatie.sn.example"}, "languages": {"fr"}}
	p = ministry.do("POST", "/countries/SN/pocs/"+id+"/edit", form)
	require.Equal(t, 303, p.Status, p.Body)
	p = ministry.do("POST", "/countries/SN/pocs/"+id+"/edit", form)
	assertPage(t, p, 409)
	got, err := s.app.PoCs.Get(ctx, s.actor(s.fx.ministry), "SN", id)
	require.NoError(t, err)
	assert.Equal(t, models.PoCDiplomatic, got.Kind)
	p = ministry.do("POST", "/countries/SN/pocs/"+id+"/delete", url.Values{"_csrf": {csrf(t, ministry.get("/countries/SN"))}})
	require.Equal(t, 303, p.Status, p.Body)
	l, err = s.app.PoCs.List(ctx, s.actor(s.fx.ministry), "SN")
	require.NoError(t, err)
	assert.Empty(t, l.Items)
	assert.Contains(t, ministry.get("/countries/SN/readiness").Body, "keep the list up to date instead")
}

// TestReadinessHistoryNamesTheDerivedPoCFacts: the Points of Contact facts that the directory
// and its checks derive (issue 17.1) are recorded in the readiness history (issue 17.3) as
// "derived", each under a label that reads as a fact: the profile's "last check {1}" line would
// show its placeholder, and poc_missed_checks has no profile label at all.
func TestReadinessHistoryNamesTheDerivedPoCFacts(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	coord := s.actor(s.fx.coord)
	_, err := s.app.PoCs.Create(ctx, coord, "SN", models.PoCInput{Kind: models.PoCTechnical, Name: "Awa Ndiaye",
		Email: "awa.ndiaye@cert.sn.example", Languages: []string{"fr"}})
	require.NoError(t, err)
	v, err := s.app.PoCChecks.Run(ctx, coord, service.PoCCheckInput{Countries: []string{"SN"}})
	require.NoError(t, err)
	_, err = s.app.PoCChecks.Close(ctx, coord, v.ID)
	require.NoError(t, err)

	p := s.browser().get("/countries/SN")
	assertPage(t, p, 200)
	i := strings.Index(p.Body, `id="readiness-history"`)
	require.Greater(t, i, 0, "the country page shows the readiness history")
	history := p.Body[i:]
	assert.Contains(t, history, "derived from other records")
	assert.Contains(t, history, "Points of Contact nominated")
	assert.Contains(t, history, "Last communication check")
	assert.Contains(t, history, "Communication checks missed in a row")
	assert.NotContains(t, history, "{1}", "no label with an unfilled placeholder")
	assert.NotContains(t, history, "poc_missed_checks", "no fact shown by its code")
}
