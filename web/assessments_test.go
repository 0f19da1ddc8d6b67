package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// questionnaireForm answers every question with its best answer, except those in over ("" leaves
// a question unanswered).
func questionnaireForm(over map[string]string) url.Values {
	qn, _ := models.LookupQuestionnaire(models.CurrentQuestionnaire)
	f := url.Values{}
	for _, q := range qn.Questions() {
		_, hi := q.Scale.Range()
		v := strconv.Itoa(hi)
		if o, ok := over[q.Code]; ok {
			v = o
		}
		f.Set("answers."+q.Code, v)
	}
	return f
}

var supersedesRe = regexp.MustCompile(`name="supersedes" value="([^"]*)"`)

func TestMinistryAnswersTheSelfAssessmentWithoutJavaScript(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	b.lang = "fr"
	b.signIn(s.fx.ministry)

	p := b.get("/countries/SN")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `href="/countries/SN/assessments"`)
	p = b.get("/countries/SN/assessments")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Aucune auto-évaluation pour l&#39;instant.")
	p = b.get("/countries/SN/assessments/new")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Normes de comportement responsable des États")
	assert.Contains(t, p.Body, `name="answers.cert_exists"`)
	assert.Contains(t, p.Body, "Confidentiel : seuls les ministères de Sénégal")
	assert.Equal(t, "", supersedesRe.FindStringSubmatch(p.Body)[1])
	tok := csrf(t, p)

	// Two questions left unanswered and a comment with a control character: the form comes
	// back with each problem next to its question, and nothing is stored.
	bad := questionnaireForm(map[string]string{"cert_exists": "", "cmm_mindset": "", "cert_sim3": ""})
	bad.Set("_csrf", tok)
	bad.Set("supersedes", "")
	bad.Set("comments.cert_sim3", "pas de CERT\x07")
	p = b.do("POST", "/countries/SN/assessments", bad)
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-answers-cert-exists-err"`)
	assert.Contains(t, p.Body, `id="f-answers-cmm-mindset-err"`)
	assert.Contains(t, p.Body, `href="#f-answers-cert-exists">Votre État dispose-t-il d&#39;un CERT/CSIRT national doté d&#39;un mandat formel ?`)
	assert.Contains(t, p.Body, `id="f-comments-cert-sim3-err"`)
	assert.NotContains(t, p.Body, `id="f-answers-cert-sim3-err"`, "an optional question may stay unanswered")
	assert.Contains(t, p.Body, `name="answers.norm_a_cooperation" id="f-answers-norm-a-cooperation-2" value="2" checked`, "answers are kept")
	list, err := s.app.Assessments.List(context.Background(), s.actor(s.fx.ministry), "SN")
	require.NoError(t, err)
	assert.Empty(t, list)

	good := questionnaireForm(map[string]string{"cert_exists": "0", "cert_sim3": "", "cmm_mindset": "2"})
	good.Set("_csrf", tok)
	good.Set("supersedes", "")
	good.Set("comments.cert_exists", "Le décret de création est en préparation.")
	p = b.do("POST", "/countries/SN/assessments", good)
	require.Equal(t, 303, p.Status, p.Body)
	loc := p.Header.Get("Location")
	require.Regexp(t, `^/countries/SN/assessments/[0-9a-z]+\?ok=assessment_submitted#proposals$`, loc)
	p = b.get(loc)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "L&#39;auto-évaluation a été soumise.")
	assert.Contains(t, p.Body, `<svg class="bar"`)
	assert.Contains(t, p.Body, `id="bars-summary"`)
	assert.Contains(t, p.Body, "C&#39;est la première auto-évaluation")
	assert.Regexp(t, `id="bar-cmm_policy_strategy"[\s\S]*?<rect class="bar-fg" x="0" y="0" width="83"`, p.Body) // (0+1+1+1+1+1)/6
	// The proposals, each with a way to review and edit the draft.
	edit := regexp.MustCompile(`id="proposal-cert_setup"[\s\S]*?href="(/ministry/needs/[0-9a-z]+/edit)">Examiner et modifier`).FindStringSubmatch(p.Body)
	require.NotNil(t, edit, p.Body)
	assert.Contains(t, p.Body, `id="proposal-awareness"`)
	assert.NotContains(t, p.Body, `id="proposal-cert_maturity"`, "maturity waits for the CERT")

	needURL := strings.TrimSuffix(strings.Replace(edit[1], "/ministry/needs/", "/needs/", 1), "/edit")
	p = b.get(needURL)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `class="hint proposal-of"><a href="/countries/SN/assessments/`, "the way back to the assessment")
	p = b.get(edit[1])
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `value="Création d&#39;un CERT/CSIRT national"`)
	assert.Regexp(t, `id="vis-donors"[^>]*checked`, p.Body)
	id := strings.TrimSuffix(strings.TrimPrefix(edit[1], "/ministry/needs/"), "/edit")
	n, ok := s.h.Need(id)
	require.True(t, ok)
	// The ministry changes the budget and submits: what the form posts, as a browser would.
	form := url.Values{"_csrf": {csrf(t, p)}, "op": {"submit"}, "title": {n.Title}, "description": {n.Description},
		"theme": {string(n.Theme)}, "capability": {string(n.Capability)}, "start_by": {string(n.StartBy)},
		"duration_months": {strconv.Itoa(n.DurationMonths)}, "priority": {string(n.Priority)}, "maturity.framework": {string(n.Maturity.Framework)},
		"maturity.current": {strconv.Itoa(n.Maturity.Current)}, "maturity.target": {strconv.Itoa(n.Maturity.Target)},
		"visibility": {string(n.Visibility)}, "version": {strconv.FormatInt(n.Version, 10)}, "languages": {"fr"}}
	for _, m := range n.Modalities {
		form.Add("modalities", string(m))
	}
	form.Set("budget_usd", "550 000")
	p = b.do("POST", edit[1], form)
	require.Equal(t, 303, p.Status, p.Body)
	n, _ = s.h.Need(id)
	assert.Equal(t, models.NeedSubmitted, n.Status)
	assert.Equal(t, int64(550000), n.BudgetUSD)
	assert.Equal(t, models.VisibilityDonors, n.Visibility)

	// A second assessment shows what changed, and the readiness history says where it came from.
	p = b.get("/countries/SN/assessments/new")
	prev := supersedesRe.FindStringSubmatch(p.Body)[1]
	require.NotEmpty(t, prev)
	assert.Contains(t, p.Body, `id="f-answers-cert-exists-0" value="0" checked`, "the last answers are filled in")
	again := questionnaireForm(map[string]string{"cert_exists": "1", "cert_sim3": "1", "cmm_mindset": "2"})
	again.Set("_csrf", csrf(t, p))
	again.Set("supersedes", prev)
	p = b.do("POST", "/countries/SN/assessments", again)
	require.Equal(t, 303, p.Status, p.Body)
	p = b.get(p.Header.Get("Location"))
	assertPage(t, p, 200)
	assert.Regexp(t, `Votre État dispose-t-il d&#39;un CERT/CSIRT national doté d&#39;un mandat formel \?</td><td>Pas encore</td><td>En partie</td>`, p.Body)
	assert.Contains(t, p.Body, `class="bar-prev"`)
	// Submitting the same form twice (a double click) is caught: the second answers 409.
	p = b.do("POST", "/countries/SN/assessments", again)
	assertPage(t, p, 409)
	assert.Contains(t, p.Body, "Une autre auto-évaluation a été soumise entre-temps.")

	anon := s.browser()
	p = anon.get("/countries/SN")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "from a self-assessment")
	assert.NotContains(t, p.Body, "/assessments", "a visitor gets no way to the assessments")
	assert.Contains(t, p.Body, "National position on international law published: No → Yes")
	assert.Contains(t, p.Body, "CERT maturity (SIM3): 0 – Not available or unknown → 1 – Implicit")
}

func TestAssessmentPagesAreForTheCountryAndCoordinatorsOnly(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	m := s.actor(s.fx.ministry)
	in := service.AssessmentInput{Answers: map[string]*int{}}
	qn, _ := models.LookupQuestionnaire(models.CurrentQuestionnaire)
	for _, q := range qn.Questions() {
		_, hi := q.Scale.Range()
		v := hi
		in.Answers[q.Code] = &v
	}
	v, err := s.app.Assessments.Submit(ctx, m, "SN", in, "en")
	require.NoError(t, err)
	for _, who := range []string{s.fx.donor, s.fx.ministry2} {
		b := s.browser()
		b.signIn(who)
		for _, path := range []string{"/countries/SN/assessments", "/countries/SN/assessments/new", "/countries/SN/assessments/" + v.ID} {
			p := b.get(path)
			assertPage(t, p, 403)
			main := p.Body[strings.Index(p.Body, "<main"):]
			assert.NotContains(t, main, v.ID)
		}
		p := b.get("/countries/SN")
		assertPage(t, p, 200)
		assert.NotContains(t, p.Body, "/countries/SN/assessments")
	}
	anon := s.browser()
	p := anon.get("/countries/SN/assessments/" + v.ID)
	require.Equal(t, 303, p.Status)
	assert.True(t, strings.HasPrefix(p.Header.Get("Location"), "/signin?next="))

	c := s.browser()
	c.signIn(s.fx.coord)
	p = c.get("/countries/SN/assessments/" + v.ID)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "No gap: nothing to propose.")
	p = c.get("/countries/SN/assessments/new")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `<option value="`+s.fx.snOrg+`" selected>Ministry of Foreign Affairs of Senegal</option>`)
}

func TestCountrySourcesFormsAndThePublicCountryPage(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	b.signIn(s.fx.ministry)
	p := b.get("/countries/SN")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "No source recorded yet.")
	assert.Contains(t, p.Body, `href="/countries/SN/sources/new"`)
	p = b.get("/countries/SN/sources/new")
	assertPage(t, p, 200)
	tok := csrf(t, p)
	p = b.do("POST", "/countries/SN/sources", url.Values{"_csrf": {tok}, "kind": {"strategy"}, "title": {""},
		"url": {"ftp://files.example.sn/strategy.pdf"}, "language": {"fr"}, "date": {"2017-11-23"}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-url-err"`)
	assert.Contains(t, p.Body, `id="f-title-err"`)
	p = b.do("POST", "/countries/SN/sources", url.Values{"_csrf": {tok}, "kind": {"strategy"}, "title": {"Stratégie nationale de cybersécurité 2025"},
		"url": {"https://www.example.sn/snc2025.pdf"}, "language": {"fr"}, "date": {"2017-11-23"}})
	require.Equal(t, 303, p.Status, p.Body)
	assert.Equal(t, "/countries/SN?ok=source_added#sources", p.Header.Get("Location"))

	// Sources are public: a visitor who is not signed in reads them, with no way to edit.
	anon := s.browser()
	p = anon.get("/countries/SN")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `<a href="https://www.example.sn/snc2025.pdf" rel="noopener noreferrer external" hreflang="fr">Stratégie nationale de cybersécurité 2025</a>`)
	assert.Contains(t, p.Body, "National cybersecurity strategy")
	assert.NotContains(t, p.Body, "/sources/new")
	assert.NotContains(t, p.Body, "/edit")

	id := regexp.MustCompile(`/countries/SN/sources/([0-9a-z]+)/edit`).FindStringSubmatch(b.get("/countries/SN").Body)[1]
	p = b.get("/countries/SN/sources/" + id + "/edit")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `name="version" value="1"`)
	p = b.do("POST", "/countries/SN/sources/"+id+"/edit", url.Values{"_csrf": {csrf(t, p)}, "version": {"1"}, "kind": {"strategy"},
		"title": {"Stratégie nationale de cybersécurité (SNC2025)"}, "url": {"https://www.example.sn/snc2025.pdf"}, "language": {"fr"}})
	require.Equal(t, 303, p.Status, p.Body)
	p = b.do("POST", "/countries/SN/sources/"+id+"/edit", url.Values{"_csrf": {tok}, "version": {"1"}, "kind": {"strategy"},
		"title": {"Stale"}, "url": {"https://www.example.sn/x.pdf"}, "language": {"fr"}})
	assertPage(t, p, 409)
	assert.Contains(t, anon.get("/countries/SN").Body, "(SNC2025)")

	donor := s.browser()
	donor.signIn(s.fx.donor)
	assertPage(t, donor.get("/countries/SN/sources/new"), 403)
	assertPage(t, donor.get("/countries/SN/sources/"+id+"/edit"), 403)
	p = donor.get("/countries/SN")
	assert.Contains(t, p.Body, "(SNC2025)")
	p = donor.do("POST", "/countries/SN/sources/"+id+"/delete", url.Values{"_csrf": {csrf(t, p)}})
	assertPage(t, p, 403)

	p = b.do("POST", "/countries/SN/sources/"+id+"/delete", url.Values{"_csrf": {tok}})
	require.Equal(t, 303, p.Status, p.Body)
	assert.Contains(t, anon.get("/countries/SN").Body, "No source recorded yet.")
}

func TestCountriesListHasSortableReadinessColumns(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	c := s.actor(s.fx.coord)
	yes, two, four := true, 2, 4
	v0 := int64(0)
	_, err := s.app.Countries.PatchReadiness(ctx, c, "FJ", service.ReadinessPatch{NationalCERT: &yes, CERTMaturity: &four, Version: &v0}, nil)
	require.NoError(t, err)
	_, err = s.app.Countries.PatchReadiness(ctx, c, "SN", service.ReadinessPatch{NationalCERT: &yes, CERTMaturity: &two, LegalPositionPublished: &yes, Version: &v0}, nil)
	require.NoError(t, err)

	b := s.browser()
	p := b.get("/countries?sort=cert")
	assertPage(t, p, 200)
	fj, sn := strings.Index(p.Body, `id="c-FJ"`), strings.Index(p.Body, `id="c-SN"`)
	require.True(t, fj > 0 && sn > 0)
	assert.Less(t, fj, sn, "the most mature CERT first")
	assert.Less(t, sn, strings.Index(p.Body, `id="c-AF"`), "countries with a CERT before those without")
	assert.Contains(t, p.Body, `aria-sort="descending"><a href="/countries?dir=asc&amp;sort=cert"`)
	assert.Regexp(t, `id="c-FJ"[\s\S]*?<td class="yes" title="4 – Explicit, actively assessed">Yes \(SIM3 4\)</td>`, p.Body)

	p = b.get("/countries?sort=legal")
	assert.Less(t, strings.Index(p.Body, `id="c-SN"`), strings.Index(p.Body, `id="c-FJ"`))
	p = b.get("/countries?sort=cert&dir=asc")
	assert.Less(t, strings.Index(p.Body, `id="c-SN"`), strings.Index(p.Body, `id="c-FJ"`))
	p = b.get("/countries?sort=nonsense")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `aria-sort="ascending"><a href="/countries?dir=desc&amp;sort=name"`)

	// The country page lists how the readiness changed, newest first, for everyone.
	p = b.get("/countries/SN")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Coordination desk")
	assert.Contains(t, p.Body, "National position on international law published: No → Yes")
	assert.Contains(t, p.Body, "CERT maturity (SIM3): 0 – Not available or unknown → 2 – Explicit, internal")
}
