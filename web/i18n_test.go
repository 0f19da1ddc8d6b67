package web

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/models/demo"
	"github.com/capmatch/capmatch/models/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"
)

func testCatalogs(t *testing.T) catalogs {
	t.Helper()
	c, err := loadCatalogs(i18nFS)
	require.NoError(t, err)
	return c
}

// TestEveryMessageExistsInEveryLanguage checks that every key the templates and the Go code
// use, literally or by pattern, is in the English, French and Spanish catalogs (loadCatalogs
// already checks that the three define the same keys, none empty).
func TestEveryMessageExistsInEveryLanguage(t *testing.T) {
	cats := testCatalogs(t)
	en := cats["en"]
	used := map[string]bool{}
	literal := regexp.MustCompile(`\.(?:T|N) "([a-z0-9_.]+)"`)
	goLiteral := regexp.MustCompile(`\b[lL]\.(?:T|N)\("([a-z0-9_.]+)"`)
	tmpl, err := fs.Glob(templateFS, "templates/*.html")
	require.NoError(t, err)
	for _, f := range tmpl {
		b, err := fs.ReadFile(templateFS, f)
		require.NoError(t, err)
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	goFiles, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range goLiteral.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	for _, r := range fieldErrorRules {
		used[r.key] = true
	}
	for _, r := range reasonRules {
		used[r.key] = true
	}
	used["reason.and"], used["reason.or"] = true, true // conjunctions of localList
	for _, f := range matching.FactorNames() {
		used["factor."+f], used["factor."+f+".hint"] = true, true
	}
	for _, b := range []matching.Band{matching.BandStrong, matching.BandPossible, matching.BandWeak} {
		used["match.band."+string(b)] = true // template "band"
	}
	for k := range flashKeys {
		used["flash."+k] = true
	}
	for _, st := range []string{"draft", "submitted", "open", "matched", "in_progress", "fulfilled", "withdrawn", "closed"} {
		used["status."+st] = true
	}
	for _, st := range engagementStatuses {
		used["status."+string(st)] = true
	}
	for _, st := range activityStatuses {
		used["iati."+strconv.Itoa(int(st))] = true
	}
	for _, tx := range transactionTypes {
		used["tx."+string(tx)] = true
	}
	for _, rt := range resultTypes {
		used["result."+string(rt)] = true
	}
	for _, c := range documentCategories {
		used["doccat."+c] = true
	}
	for _, k := range append(notificationKinds, "other") {
		used["notifications.kind."+k] = true
	}
	for _, side := range []models.Side{models.SideNeed, models.SideOffer} {
		used["engagement.side_"+string(side)], used["engagement.proposed_by_"+string(side)] = true, true
	}
	for _, by := range []string{"country", "theme", "capability"} {
		used["funding.by_"+by] = true
	}
	for _, c := range []models.Confidence{models.ConfidenceHigh, models.ConfidenceMedium, models.ConfidenceLow} {
		used["confidence."+string(c)] = true // country.html, external activities
	}
	for _, ds := range service.Datasets { // the open-data dictionary (opendata.go)
		used["opendata.ds."+ds.Name], used["opendata.ds."+ds.Name+".desc"] = true, true
		for _, c := range ds.Columns {
			used[columnKey(cats.localizer("en"), ds.Name, c.Name)] = true
		}
	}
	for _, k := range []string{"csrf", "internal", "not_found", "forbidden", "conflict", "rate_limited", "unavailable", "invalid", "bad_request"} {
		used["error."+k+".title"], used["error."+k+".text"] = true, true
	}
	for m := 1; m <= 12; m++ {
		used["month."+strconv.Itoa(m)] = true
	}
	for _, r := range models.Roles {
		used["role."+string(r)] = true
	}
	for k := range needLabels(cats.localizer("en")) {
		used["need.field."+strings.ReplaceAll(k, ".", "_")] = true
	}
	for k := range offerLabels(cats.localizer("en")) {
		used["offer.field."+k] = true
	}
	for _, src := range []models.ReadinessSource{models.ReadinessDeclared, models.ReadinessAssessment, models.ReadinessDerived} {
		used["readiness.source."+string(src)] = true // the readiness history (country_profile.go)
	}
	for k := range sourceLabels(cats.localizer("en")) {
		used["source.field."+k] = true
	}
	for _, m := range mapMetrics {
		for _, p := range []string{"map.lead_", "map.metric_", "map.table_"} {
			used[p+m.Key] = true
		}
	}
	for _, k := range pocStateKeys {
		used[k] = true
	}
	for _, f := range historyFacts { // readinessFact in country_profile.go
		used["readiness.fact."+f] = true
	}
	for _, plural := range []string{"map.open_needs", "map.active_projects"} { // L.N(...) in map.go
		used[plural] = true
	}
	for k := range used { // a count message (L.N) uses every plural form its catalogs define
		if _, ok := en[k+".other"]; ok {
			delete(used, k)
			for _, lang := range models.SupportedLangs {
				for _, form := range pluralForms {
					if _, ok := cats[lang][k+"."+form]; ok {
						used[k+"."+form] = true
					}
				}
			}
		}
	}
	for k := range used {
		if strings.HasSuffix(k, ".") {
			continue // a prefix built with printf, covered above
		}
		assert.Contains(t, en, k, "message %q is used but not in the catalogs", k)
	}
	for _, lang := range models.SupportedLangs {
		for k := range cats[lang] {
			assert.True(t, used[k], "message %q is in the %s catalog but never used", k, lang)
		}
	}
}

func TestCatalogsMustAgree(t *testing.T) {
	mapFS := func(en, fr, es string) fstest.MapFS {
		return fstest.MapFS{"i18n/en.json": {Data: []byte(en)}, "i18n/fr.json": {Data: []byte(fr)}, "i18n/es.json": {Data: []byte(es)}}
	}
	_, err := loadCatalogs(mapFS(`{"a":"A","b":"B"}`, `{"a":"A"}`, `{"a":"A","b":"B"}`))
	assert.ErrorContains(t, err, `en catalog has "b", fr catalog lacks "b"`)
	// A plural form only one language has is fine when every catalog has the key's .other.
	c, err := loadCatalogs(mapFS(`{"n.one":"{1} thing","n.other":"{1} things"}`, `{"n.one":"{1} chose","n.other":"{1} choses","n.many":"{1} de choses"}`,
		`{"n.one":"{1} cosa","n.other":"{1} cosas"}`))
	require.NoError(t, err)
	assert.Equal(t, "2 things", c.localizer("en").N("n", 2))
	_, err = loadCatalogs(mapFS(`{"n.few":"{1} thing"}`, `{}`, `{}`))
	assert.ErrorContains(t, err, `en catalog has "n.few", en catalog lacks "n.other"`)
	_, err = loadCatalogs(mapFS(`{"a":" "}`, `{"a":"A"}`, `{"a":"A"}`))
	assert.ErrorContains(t, err, `is empty`)
	// A key defined twice (a merge that kept both sides' lines) is refused: JSON would keep the
	// last one silently, whichever side it came from.
	_, err = loadCatalogs(mapFS(`{"a":"A","b":"B","a":"Old A"}`, `{"a":"A","b":"B"}`, `{"a":"A","b":"B"}`))
	assert.ErrorContains(t, err, `en catalog defines "a" twice`)
	_, err = loadCatalogs(i18nFS)
	assert.NoError(t, err, "the UI's own catalogs")
}

func TestNegotiateLanguage(t *testing.T) {
	for _, tc := range []struct{ cookie, accept, want string }{
		{"", "", "en"},
		{"", "fr-SN,fr;q=0.9,en;q=0.8", "fr"},
		{"", "de-DE,de;q=0.9,es;q=0.5,en;q=0.4", "es"},
		{"", "es-419", "es"},
		{"", "pt-BR,pt;q=0.9", "en"},
		{"", "en;q=0.1,fr;q=0.9", "fr"},
		{"es", "fr", "es"},
		{"xx", "fr", "fr"},
		{"", "garbage;;;", "en"},
	} {
		assert.Equal(t, tc.want, negotiateLang(tc.cookie, tc.accept), "%q %q", tc.cookie, tc.accept)
	}
}

func TestNumbersMoneyAndDatesPerLanguage(t *testing.T) {
	cats := testCatalogs(t)
	d := models.Date("2027-03-01")
	ts := time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ lang, money, date, ts, plural0, plural1, plural2 string }{
		{"en", "US$1,234,567", "1 Mar 2027", "5 Dec 2026", "0 open needs", "1 open need", "2 open needs"},
		{"fr", "1\u00a0234\u00a0567 $ US", "1 mars 2027", "5 déc. 2026", "0 besoin ouvert", "1 besoin ouvert", "2 besoins ouverts"},
		{"es", "1.234.567 US$", "1 mar 2027", "5 dic 2026", "0 necesidades abiertas", "1 necesidad abierta", "2 necesidades abiertas"},
	} {
		L := cats.localizer(tc.lang)
		assert.Equal(t, tc.money, L.Money(1234567), tc.lang)
		assert.Equal(t, tc.date, L.Date(d), tc.lang)
		assert.Equal(t, tc.ts, L.Date(ts), tc.lang)
		assert.Equal(t, tc.plural0, L.N("map.open_needs", 0), tc.lang)
		assert.Equal(t, tc.plural1, L.N("map.open_needs", 1), tc.lang)
		assert.Equal(t, tc.plural2, L.N("map.open_needs", 2), tc.lang)
	}
	// CLDR plural categories, not "n == 1".
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{{"en", 0, "other"}, {"en", 1, "one"}, {"fr", 0, "one"}, {"fr", 1, "one"}, {"fr", 2, "other"}, {"es", 1, "one"},
		{"es", 0, "other"}, {"ru", 3, "few"}, {"ru", 5, "many"}, {"ar", 2, "two"}} {
		assert.Equal(t, tc.want, pluralForm(language.Make(tc.lang), tc.n), "%s %d", tc.lang, tc.n)
	}
	fr := cats.localizer("fr")
	assert.Equal(t, "Sénégal", fr.Country("SN"))
	assert.Equal(t, "Cybercriminalité", fr.Label(models.KindTheme, models.ThemeCybercrime))
	assert.Equal(t, "Afrique occidentale", fr.Label(models.KindRegion, "011"))
	assert.Equal(t, "Formatif", fr.Stage(models.FrameworkCMM, 2))
	assert.Equal(t, "Côte d’Ivoire", cats.localizer("es").Country("CI"))
	assert.Equal(t, "not-a-date", fr.Date(models.Date("not-a-date")))
	assert.Equal(t, "Trop long : 200 caractères au maximum.", fr.T("err.too_long", 200))
}

// TestEveryValidationMessageIsTranslated feeds the domain validators bad needs and offers and
// checks that every field message they produce has a translation rule, so validation errors
// always show in the user's language.
func TestEveryValidationMessageIsTranslated(t *testing.T) {
	var msgs []string
	collect := func(err error) {
		var de *models.Error
		require.True(t, errors.As(err, &de), "%v", err)
		for _, f := range de.Fields {
			msgs = append(msgs, f.Message)
		}
	}
	long := strings.Repeat("x", models.MaxTitleRunes+1)
	needs := []models.Need{
		{},
		{Title: long, Description: "a\x00b", Country: "XX", Theme: "nope", Capability: "nope", Modalities: []models.Modality{"x", "x"},
			Languages: []string{"zz"}, BudgetUSD: -1, StartBy: "2027-02-30", DurationMonths: 500, Priority: "urgent",
			Maturity: models.Maturity{Framework: "nope"}, Visibility: "everyone"},
		{Title: "t\x01", Country: "SN", Theme: models.ThemeCybercrime, Capability: models.CapCERTSetup, BudgetUSD: models.MaxBudgetUSD,
			Maturity: models.Maturity{Framework: models.FrameworkSIM3, Current: 3, Target: 1}},
		{Maturity: models.Maturity{Framework: models.FrameworkCMM, Current: 9, Target: -1}, Title: "\xff"},
		{Languages: make([]string, 500)},
	}
	for i := range needs {
		collect(needs[i].Validate())
	}
	offers := []models.Offer{
		{},
		{Themes: []models.Theme{models.ThemeCybercrime}, Capabilities: []models.Capability{models.CapCERTSetup},
			EligibleCountries: []string{"XX"}, EligibleRegions: []string{"999"}, AvailableFrom: "2028-01-01", AvailableUntil: "2027-01-01",
			MaxEngagements: 0},
		{ContactName: "Programme desk"},
		{ContactName: "a\x00b", ContactEmail: "Desk <desk@example.org>"},
	}
	for i := range offers {
		collect(offers[i].Validate())
	}
	// Points of Contact (models.PoC) and communication checks (service.PoCChecks).
	pocs := []models.PoC{{}, {Kind: "political", Name: long, Email: "a b", Phone: "0221", Languages: []string{"xx", "xx"}}}
	for i := range pocs {
		collect(pocs[i].Validate())
	}
	msgs = append(msgs, "give either countries or a region, not both", "name the countries to check, or give a region (UN M49 code; 001 is the world)",
		"none of these countries has nominated a Point of Contact: there is no one to check", `unknown UN M49 region code "999" (e.g. 002 Africa)`)
	// Country sources and self-assessments (the source form and the questionnaire show these).
	src := models.CountrySource{Kind: "blog", URL: "javascript:x", Date: "2027-02-30", Language: "xx"}
	collect(src.Validate())
	collect((&models.CountrySource{}).Validate())
	three, zero := 3, 0
	asm := models.Assessment{Country: "SN", Questionnaire: models.CurrentQuestionnaire, Language: "de", Answers: []models.Answer{
		{Question: "cert_exists", Value: &three}, {Question: "cmm_mindset", Value: &zero}, {Question: "nope", Value: &zero},
		{Question: "cert_sim3", Comment: "x\x01"}}}
	collect(asm.Validate())
	msgs = append(msgs, "must be an ISO 3166-1 alpha-2 code", "must be a SIM3 level from 0 to 4", "must be newest or priority",
		"cannot be below the 3 engagements already agreed", "is not a cursor from this list; start again without it",
		// engagements and projects (models/service)
		"must be a real date written YYYY-MM-DD", "must not be before start_date", "must be a whole number of US dollars from 1 to 9,999,999,999",
		"must be between 1 and 9,999,999,999 when given", "must be between 1 and what remains of the offer (US$1500000)",
		"must not be before the offer's window opens (2027-01-01 to 2028-12-31)", "must not be after the offer's window ends (2027-01-01 to 2028-12-31)",
		"must not be before the engagement's period starts (2027-03-01)", "must not be after the engagement's period ends (2027-12-31)",
		"cannot be below the US$400000 already committed to agreed engagements",
		"is required: it withdraws 1 proposal, whose other side is told why",
		"must be pledge, commitment, disbursement or expenditure", "must be an implementer or donor organization",
		"must be an IATI activity status code from 1 to 6", "must be proposed, accepting, agreed, declined, withdrawn or cancelled")
	// project results and documents (service.Projects.Patch)
	msgs = append(msgs, "must be output or outcome", "must be between 0 and 1,000,000,000", "must be an absolute http(s) URL",
		"must be an ISO 639-1 code", "at most 100 results", "at most 100 documents", "must be at most 3 characters long",
		// transactions and actual dates (issue 18.0)
		"must not be after today (2026-05-04): a transaction records money that moved or was committed; plan future money in the budget",
		"must not be after today (2026-05-04): an actual date records what happened; plan with start_date and end_date",
		"must be empty while the project is in pipeline (status 1): it has not started; moving it to implementation (status 2) records its actual start")
	require.Greater(t, len(msgs), 25)
	L := testCatalogs(t).localizer("es")
	seen := map[string]bool{}
	for _, m := range msgs {
		key, _, ok := matchFieldError(L, m)
		assert.True(t, ok, "no translation rule for %q", m)
		seen[key] = true
	}
	assert.Equal(t, "Esta capacidad pertenece al tema «Gestión de incidentes y protección de infraestructuras críticas»: elija una capacidad del tema elegido.",
		translateFieldError(L, "cert_setup belongs to theme incident_management, not cybercrime"))
	assert.Equal(t, "Indique un importe inferior a 10.000.000.000 US$.", translateFieldError(L, "must be less than 10000000000"))
	assert.Equal(t, "Revise este valor.", translateFieldError(L, "something nobody foresaw"))
	assert.Equal(t, "Indique un número entre 0 y 1.000.000.000.", translateFieldError(L, "must be between 0 and 1,000,000,000"))
}

func TestSafeNextStaysOnSite(t *testing.T) {
	for in, want := range map[string]string{
		"/ministry":                     "/ministry",
		"/needs?theme=x#need-1":         "/needs?theme=x#need-1",
		"":                              "",
		"https://evil.example/":         "",
		"//evil.example/":               "",
		"/\\evil.example":               "",
		"/ok\r\nSet-Cookie: x=y":        "",
		"javascript:alert(1)":           "",
		"/" + strings.Repeat("a", 3000): "",
	} {
		assert.Equal(t, want, safeNext(in), in)
	}
	assert.Equal(t, "/ministry?ok=need_created#need-1", withFlash("/ministry#need-1", "need_created"))
	assert.Equal(t, "/needs?ok=need_approved&status=open", withFlash("/needs?status=open", "need_approved"))
}

func TestCookieValueRoundTrips(t *testing.T) {
	tk := tokens{Access: "eyJhbGciOi.eyJzdWIi.sig-_", Refresh: "abc_DEF-123", Remember: true}
	got, ok := decodeTokens(tk.encode())
	require.True(t, ok)
	assert.Equal(t, tk, got)
	for _, bad := range []string{"", "x", "r~a", "q~a~b", "r~~b", "s~a~", "r~a~b~c"} {
		_, ok := decodeTokens(bad)
		assert.False(t, ok, bad)
	}
}

// TestConcurrentRefreshesShareOneCall: two requests presenting the same expired session must
// not both rotate the refresh token (the second would look like token theft).
func TestConcurrentRefreshesShareOneCall(t *testing.T) {
	assert.LessOrEqual(t, refreshGrace, 10*time.Second, "the grace covers a slow link's round trip, no more (issue 13.8)")
	var r refresher
	r.grace = time.Minute
	var calls atomic.Int32
	release := make(chan struct{})
	call := func(context.Context) (*models.TokenPair, error) {
		calls.Add(1)
		<-release
		return &models.TokenPair{AccessToken: "new"}, nil
	}
	now := time.Now()
	var wg sync.WaitGroup
	got := make([]string, 5)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := r.do(context.Background(), "old-refresh", "browser", call, now)
			if err == nil {
				got[i] = p.AccessToken
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load())
	assert.Equal(t, []string{"new", "new", "new", "new", "new"}, got)

	// Within the grace period the result is reused by the same browser; another browser calls
	// through (reuse detection judges it); after the grace, a new call is made.
	_, _ = r.do(context.Background(), "old-refresh", "browser", call, now.Add(30*time.Second))
	assert.Equal(t, int32(1), calls.Load())
	_, _ = r.do(context.Background(), "old-refresh", "another browser", call, now.Add(30*time.Second))
	assert.Equal(t, int32(2), calls.Load())
	_, _ = r.do(context.Background(), "other", "browser", call, now.Add(2*time.Minute))
	_, _ = r.do(context.Background(), "old-refresh", "browser", call, now.Add(2*time.Minute))
	assert.Equal(t, int32(4), calls.Load())

	// An outage is not remembered: the next request tries again.
	down := func(context.Context) (*models.TokenPair, error) { calls.Add(1); return nil, models.ErrUnavailable }
	_, err := r.do(context.Background(), "t3", "browser", down, now)
	assert.ErrorIs(t, err, models.ErrUnavailable)
	_, _ = r.do(context.Background(), "t3", "browser", down, now)
	assert.Equal(t, int32(6), calls.Load())
}

func TestCSRFTokensAreBoundToTheSession(t *testing.T) {
	k := []byte(strings.Repeat("k", 32))
	a := csrfMAC(k, "fam:one")
	assert.Equal(t, a, csrfMAC(k, "fam:one"))
	assert.NotEqual(t, a, csrfMAC(k, "fam:two"))
	assert.NotEqual(t, a, csrfMAC([]byte(strings.Repeat("j", 32)), "fam:one"))
	assert.Len(t, a, 32)
}

// TestEveryMatchReasonIsTranslated runs the matching engine over the demo data set (every
// need against every offer, with some deliveries under way) and checks that every sentence
// it writes to explain a factor has a translation rule, in every language.
func TestEveryMatchReasonIsTranslated(t *testing.T) {
	d := demo.Build("2026-06-01")
	var needs []*models.Need
	var offers []*models.Offer
	for i := range d.Needs {
		n := d.Needs[i]
		n.Status = models.NeedOpen
		needs = append(needs, &n)
	}
	// Variants that reach the rarer sentences: no maturity scale, an unknown priority, a need
	// that cannot start on time, an offer with a small budget and no end date.
	extra := *needs[0]
	extra.ID, extra.Maturity, extra.Priority, extra.StartBy = "need-x1", models.Maturity{Framework: models.FrameworkNone}, "", "2026-01-01"
	needs = append(needs, &extra)
	for i := range d.Offers {
		o := d.Offers[i]
		o.Status = models.OfferOpen
		offers = append(offers, &o)
	}
	small := *offers[0]
	small.ID, small.BudgetUSD, small.BudgetCommitted, small.AvailableUntil = "offer-x1", 10_000, 10_000, "2099-12-31"
	offers = append(offers, &small)
	ix := matching.NewIndex(needs, offers)
	active := map[matching.Delivery]int{}
	for _, n := range needs[:10] {
		active[matching.Delivery{Country: n.Country, Capability: n.Capability}] = 1 + len(active)%2
	}
	// The reader sees half of the deliveries (rounded down), so the reasons include counts of
	// some, and "at least one" for deliveries the reader may not see at all.
	// Activities published to IATI by others deliver what others do not (issue 18.1).
	external := map[matching.Delivery]matching.External{}
	for i, n := range needs[10:20] {
		if d := (matching.Delivery{Country: n.Country, Capability: n.Capability}); active[d] == 0 {
			external[d] = matching.External{Count: 1 + i%2, Confidence: []float64{1, 0.6, 0.3}[i%3]}
		}
	}
	c := &matching.Context{Today: "2026-06-01", Active: active, Seen: func(d matching.Delivery) int { return active[d] / 2 }, External: external}
	w := matching.DefaultWeights()
	reasons := map[string]bool{}
	for _, n := range needs {
		for _, o := range offers {
			if m, ok := ix.Explain(n.ID, o.ID, w, c); ok {
				for _, f := range m.Factors {
					reasons[f.Reason] = true
				}
			}
		}
	}
	require.Greater(t, len(reasons), 100)
	keys := map[string]bool{}
	for _, lang := range models.SupportedLangs {
		L := testCatalogs(t).localizer(lang)
		for r := range reasons {
			key, _, ok := matchReason(L, r)
			if assert.True(t, ok, "no translation rule for the engine's %q", r) {
				keys[key] = true
				assert.NotContains(t, L.Reason(r), "{", "all placeholders filled: %q", r)
			}
		}
	}
	t.Logf("%d distinct reasons, %d rules used", len(reasons), len(keys))
	fr := testCatalogs(t).localizer("fr")
	assert.Equal(t, "L'offre couvre « Création d'un CERT/CSIRT national ».", fr.Reason("offer covers cert_setup"))
	assert.Equal(t, "Mise en œuvre en français mais pas en wolof (1 des 2 langues demandées).", fr.Reason("delivers in fr but not wo (1 of 2 requested languages)"))
	assert.Equal(t, "Le budget restant de 1\u00a0600\u00a0000 $ US couvre 40 % des 4\u00a0000\u00a0000 $ US demandés.",
		fr.Reason("remaining budget $1,600,000 covers 40% of the $4,000,000 requested"))
	assert.Equal(t, "something new", fr.Reason("something new"), "an unknown sentence is shown as it is")
}
