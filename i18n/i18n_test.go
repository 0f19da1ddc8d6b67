package i18n

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/capmatch/capmatch/service/demo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hasMessage reports whether a language has a message for key, as itself or as plural forms.
func hasMessage(c *Catalog, lang, key string) bool {
	m := c.msgs[lang]
	_, one := m[key]
	_, plural := m[key+".other"]
	return one || plural
}

// TestEveryCodeHasAMessage: every reason code, problem code and notification kind has a message
// in every language, and no catalog holds a coded message nothing produces.
func TestEveryCodeHasAMessage(t *testing.T) {
	c := Default()
	require.Equal(t, []string{"en", "ar", "es", "fr", "ru", "zh"}, c.Langs(), "the six official languages of the United Nations")
	want := map[string]bool{}
	for prefix, codes := range map[string][]string{
		"reason.": matching.ReasonCodes, "problem.": models.ProblemCodes, "notice.": service.NotificationKinds,
	} {
		require.NotEmpty(t, codes, prefix)
		for _, code := range codes {
			require.False(t, want[prefix+code], "%s%s listed twice", prefix, code)
			want[prefix+code] = true
			for _, lang := range c.Langs() {
				assert.True(t, hasMessage(c, lang, prefix+code), "%s has no message for %s%s", lang, prefix, code)
			}
		}
	}
	want["problem.invalid"] = true // the fallback for a code the catalog does not know yet
	for _, lang := range c.Langs() {
		for k := range c.msgs[lang] {
			base := k
			for _, f := range pluralForms {
				base = strings.TrimSuffix(base, "."+f)
			}
			if strings.HasPrefix(k, "reason.") || strings.HasPrefix(k, "problem.") || strings.HasPrefix(k, "notice.") {
				assert.True(t, want[k] || want[base], "%s has %q, which no code produces", lang, k)
			}
		}
	}
}

// mapFS builds bundles for the loader's tests.
func mapFS(files map[string]string) fstest.MapFS {
	out := fstest.MapFS{}
	for name, data := range files {
		out[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return out
}

func TestTheLoaderKeepsCatalogsCompleteAndSingle(t *testing.T) {
	ok := func(en, fr, es string) fstest.MapFS { // Arabic, Chinese and Russian as English: only the rules are tested
		return mapFS(map[string]string{"en.json": en, "fr.json": fr, "es.json": es, "ar.json": en, "ru.json": en, "zh.json": en})
	}
	c, err := New(ok(`{"page.a":"A {1}"}`, `{"page.a":"A {1}"}`, `{"page.a":"A {1}"}`))
	require.NoError(t, err)
	assert.Equal(t, "A 2", c.For("fr").T("page.a", 2))
	assert.Equal(t, "US$5", c.For("en").Money(5), "the shared messages come with every bundle")

	_, err = New(ok(`{"a":"A","b":"B"}`, `{"a":"A"}`, `{"a":"A","b":"B"}`))
	assert.ErrorContains(t, err, `en messages have "b", fr messages lack "b"`)
	_, err = New(ok(`{"problem.required":"x"}`, `{"problem.required":"x"}`, `{"problem.required":"x"}`))
	assert.ErrorContains(t, err, "defined by two bundles", "one source of truth per message")
	_, err = New(mapFS(map[string]string{"en.json": `{}`, "fr.json": `{}`}))
	assert.ErrorContains(t, err, "languages")
	_, err = New(mapFS(map[string]string{"en.json": `{}`, "fr.json": `{}`, "es.json": `{}`, "ar.json": `{}`, "ru.json": `{}`, "zh.json": `{}`, "de.json": `{}`}))
	assert.ErrorContains(t, err, "languages", "a bundle cannot add a language the shared messages lack")
	_, err = New(ok(`{"a":"{name} x"}`, `{"a":"{nom} x"}`, `{"a":"{name} x"}`))
	assert.ErrorContains(t, err, `uses {nom}`)
	_, err = New(ok(`{"a":" "}`, `{"a":"A"}`, `{"a":"A"}`))
	assert.ErrorContains(t, err, "is empty")
	// A plural form only one language has is fine when every catalog has the key's .other.
	_, err = New(ok(`{"n.one":"{1} thing","n.other":"{1} things"}`, `{"n.one":"{1} chose","n.other":"{1} choses","n.many":"{1} de choses"}`,
		`{"n.one":"{1} cosa","n.other":"{1} cosas"}`))
	require.NoError(t, err)
	_, err = New(ok(`{"n.few":"{1} thing"}`, `{}`, `{}`))
	assert.ErrorContains(t, err, `en messages have "n.few", en messages lack "n.other"`)
}

func TestNegotiate(t *testing.T) {
	c := Default()
	for _, tc := range []struct{ preferred, accept, want string }{
		{"", "", "en"},
		{"", "fr-SN,fr;q=0.9,en;q=0.8", "fr"},
		{"", "de-DE,de;q=0.9,es;q=0.5,en;q=0.4", "es"},
		{"", "es-419", "es"},
		{"", "pt-BR,pt;q=0.9", "en"},
		{"", "en;q=0.1,fr;q=0.9", "fr"},
		{"es", "fr", "es"},
		{"ES", "", "es"},
		{"fr-CA", "", "fr"},
		{"xx", "fr", "fr"},
		{"", "garbage;;;", "en"},
	} {
		assert.Equal(t, tc.want, c.Negotiate(tc.preferred, tc.accept), "%q %q", tc.preferred, tc.accept)
	}
	assert.Equal(t, "en", c.For("de").Lang)
}

func TestMessageSyntax(t *testing.T) {
	c, err := New(mapFS(map[string]string{
		"en.json": `{"t.opt":"Done{why?: {why}}.","t.list":"{xs} / {xs,or}","t.n.one":"one {count}","t.n.other":"many {count}"}`,
		"fr.json": `{"t.opt":"Fait{why? : {why}}.","t.list":"{xs} / {xs,or}","t.n.one":"un {count}","t.n.other":"plusieurs {count}"}`,
		"es.json": `{"t.opt":"Hecho{why?: {why}}.","t.list":"{xs} / {xs,or}","t.n.one":"uno {count}","t.n.other":"varios {count}"}`,
		"ar.json": `{"t.opt":"تم{why?: {why}}.","t.list":"{xs} / {xs,or}","t.n.one":"واحد {count}","t.n.other":"{count}","t.n.few":"بضعة {count}"}`,
		"ru.json": `{"t.opt":"Готово{why?: {why}}.","t.list":"{xs} / {xs,or}","t.n.one":"один {count}","t.n.other":"{count}","t.n.few":"несколько {count}"}`,
		"zh.json": `{"t.opt":"完成{why?：{why}}。","t.list":"{xs} / {xs,or}","t.n.one":"{count}","t.n.other":"{count}"}`,
	}))
	require.NoError(t, err)
	en, fr := c.For("en"), c.For("fr")
	assert.Equal(t, "Done.", en.Message("t.opt", nil))
	assert.Equal(t, "Done.", en.Message("t.opt", models.Args{"why": models.ArgText("  ")}), "an empty argument is no argument")
	assert.Equal(t, "Fait : budget épuisé.", fr.Message("t.opt", models.Args{"why": models.ArgText("budget épuisé")}))
	langs := models.Args{"xs": models.ArgList(models.KindLanguage, []string{"fr", "wo", "en"})}
	assert.Equal(t, "French, Wolof and English / French, Wolof or English", en.Message("t.list", langs))
	assert.Equal(t, "français, wolof et anglais / français, wolof ou anglais", fr.Message("t.list", langs),
		"language names are common nouns in a French sentence")
	assert.Equal(t, "none / none", en.Message("t.list", models.Args{"xs": models.ArgList(models.KindModality, []string{})}))
	assert.Equal(t, "one 1", en.Message("t.n", models.Args{"count": models.ArgInt(1)}))
	assert.Equal(t, "many 0", en.Message("t.n", models.Args{"count": models.ArgInt(0)}))
	assert.Equal(t, "un 0", fr.Message("t.n", models.Args{"count": models.ArgInt(0)}), "French: 0 is singular")
	assert.Equal(t, "несколько 3", c.For("ru").Message("t.n", models.Args{"count": models.ArgInt(3)}), "Russian: 3 is few")
	assert.Equal(t, "5", c.For("ru").Message("t.n", models.Args{"count": models.ArgInt(5)}), "a form the catalog lacks is other")
	assert.Equal(t, "بضعة ٣", c.For("ar").Message("t.n", models.Args{"count": models.ArgInt(3)}), "Arabic: 3 is few")
	assert.Equal(t, "完成：原因。", c.For("zh").Message("t.opt", models.Args{"why": models.ArgText("原因")}))
	assert.Equal(t, "nope.key", en.Message("nope.key", nil), "a missing key shows itself")
}

func TestArgumentsAreWrittenByKind(t *testing.T) {
	fr, es := Default().For("fr"), Default().For("es")
	for _, tc := range []struct {
		arg    models.Arg
		fr, es string
	}{
		{models.ArgUSD(1_600_000), "1\u00a0600\u00a0000 $ US", "1.600.000 US$"},
		{models.ArgInt(12345), "12\u00a0345", "12.345"},
		{models.ArgShare(0.667), "66,7\u00a0%", "66,7\u00a0%"},
		{models.ArgNumber(0.85), "0,85", "0,85"},
		{models.ArgDate("2027-03-01"), "1 mars 2027", "1 mar 2027"},
		{models.ArgDateRange("2027-01-01", "2028-12-31"), "du 1 janv. 2027 au 31 déc. 2028", "del 1 ene 2027 al 31 dic 2028"},
		{models.ArgDateRange("", "2028-12-31"), "jusqu'au 31 déc. 2028", "hasta el 31 dic 2028"},
		{models.ArgDateRange("", ""), "sans dates", "sin fechas"},
		{models.ArgPeriod(18, "2027-03-01", false), "18 mois à partir du 1 mars 2027", "18 meses a partir del 1 mar 2027"},
		{models.ArgPeriod(1, "2027-03-01", true), "1 mois à partir du 1 mars 2027 (aujourd'hui, la date de début étant passée)",
			"1 mes a partir del 1 mar 2027 (hoy, pues la fecha de inicio ya pasó)"},
		{models.ArgStage(models.FrameworkCMM, 2), "Formatif", "Formativo"},
		{models.ArgOf(models.KindCapability, models.CapCERTSetup), "Création d'un CERT/CSIRT national", "Creación de un CERT/CSIRT nacional"},
		{models.ArgOf(models.KindCountry, "SN"), "Sénégal", "Senegal"},
		{models.ArgList(models.KindModality, []models.Modality{models.ModTraining, models.ModMentoring}), "formation et mentorat", "capacitación y mentoría"},
		{models.ArgCodes("high", "low"), "high et low", "high y low"},
		{models.ArgText("Plan « national »"), "Plan « national »", "Plan « national »"},
	} {
		assert.Equal(t, tc.fr, fr.Arg(tc.arg, ""), "fr %v", tc.arg)
		assert.Equal(t, tc.es, es.Arg(tc.arg, ""), "es %v", tc.arg)
	}
}

// TestEveryReasonTheEngineWritesReads runs the engine over the demo data (every need against
// every offer, with deliveries under way, some of them hidden from the reader) and writes every
// reason in every language: each has its message, with every placeholder filled.
func TestEveryReasonTheEngineWritesReads(t *testing.T) {
	d := demo.Build("2026-06-01")
	var needs []*models.Need
	var offers []*models.Offer
	for i := range d.Needs {
		n := d.Needs[i]
		n.Status = models.NeedOpen
		needs = append(needs, &n)
	}
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
	external := map[matching.Delivery]matching.External{}
	for _, n := range needs[10:] {
		if d := (matching.Delivery{Country: n.Country, Capability: n.Capability}); active[d] == 0 {
			external[d] = matching.External{Count: 1 + len(external)%2, Confidence: 0.6}
		}
	}
	ctx := &matching.Context{Today: "2026-06-01", Active: active, External: external, Seen: func(d matching.Delivery) int { return active[d] / 2 }}
	codes := map[string]bool{}
	c := Default()
	for _, n := range needs {
		for _, o := range offers {
			m, ok := ix.Explain(n.ID, o.ID, matching.DefaultWeights(), ctx)
			if !ok {
				continue
			}
			for _, f := range m.Factors {
				codes[f.Code] = true
				for _, lang := range c.Langs() {
					s := c.Reason(lang, f.Code, f.Args)
					assert.NotContains(t, s, "{", "%s %s", lang, f.Code)
					assert.NotContains(t, s, "reason.", "%s %s", lang, f.Code)
				}
			}
		}
	}
	assert.Greater(t, len(codes), 20, "the demo data reaches most reasons: %v", codes)
	assert.True(t, codes[matching.ReasonDuplicationExternal], "activities published to IATI by others are explained: %v", codes)

	n, o := *needs[0], *offers[0]
	n.Languages, n.Maturity = []string{"fr", "wo"}, models.Maturity{Framework: models.FrameworkSIM3, Current: 1, Target: 2}
	o.Languages, o.Modalities = []string{"fr"}, []models.Modality{models.ModTraining}
	m, ok := matching.Score(&n, &o, matching.DefaultWeights(), &matching.Context{Today: "2026-06-01"})
	require.True(t, ok)
	fr, es := c.For("fr"), c.For("es")
	lang := m.Factors[1]
	assert.Equal(t, "Mise en œuvre en français mais pas en wolof (1 des 2 langues demandées).", fr.Reason(lang.Code, lang.Args))
	assert.Equal(t, "Se ejecuta en francés pero no en wólof (1 de los 2 idiomas solicitados).", es.Reason(lang.Code, lang.Args))
	mat := m.Factors[5]
	assert.Equal(t, "De « 1 – Implicite » à « 2 – Explicite, interne » : cet écart demande 1 type d'appui durable (formation, mentorat, déploiement d'experts) ; l'offre fournit : formation.",
		fr.Reason(mat.Code, mat.Args))
	budget := matching.Factor{Code: matching.ReasonBudgetPart, Args: models.Args{"remaining": models.ArgUSD(1_600_000),
		"share": models.ArgShare(0.4), "requested": models.ArgUSD(4_000_000)}}
	assert.Equal(t, "Le budget restant de 1\u00a0600\u00a0000 $ US couvre 40\u00a0% des 4\u00a0000\u00a0000 $ US demandés.", fr.Reason(budget.Code, budget.Args))
	assert.Equal(t, "The remaining budget of US$1,600,000 covers 40% of the US$4,000,000 requested.", c.Reason("en", budget.Code, budget.Args))
	ext := models.Args{"capability": models.ArgOf(models.KindCapability, models.CapCERTSetup), "country": models.ArgOf(models.KindCountry, "SN"),
		"count": models.ArgInt(2), "confidence": models.ArgShare(0.6)}
	assert.Equal(t, "No project or agreement on capmatch delivers “Establishing a national CERT/CSIRT” in Senegal yet, but 2 activities published to IATI by others may (mapping confidence 60%).",
		c.Reason("en", matching.ReasonDuplicationExternal, ext))
}

// TestEveryProblemTheValidatorsWriteReads feeds the domain's validators bad needs, offers and
// weights and writes every problem they report in every language.
func TestEveryProblemTheValidatorsWriteReads(t *testing.T) {
	var fields []models.FieldError
	collect := func(err error) {
		var de *models.Error
		require.True(t, errors.As(err, &de), "%v", err)
		fields = append(fields, de.Fields...)
	}
	long := strings.Repeat("x", models.MaxTitleRunes+1)
	for _, n := range []models.Need{
		{},
		{Title: long, Description: "a\x00b", Country: "XX", Theme: "nope", Capability: "nope", Modalities: []models.Modality{"x", "x"},
			Languages: []string{"zz"}, BudgetUSD: -1, StartBy: "2027-02-30", DurationMonths: 500, Priority: "urgent",
			Maturity: models.Maturity{Framework: "nope"}, Visibility: "everyone"},
		{Title: "t\x01", Country: "SN", Theme: models.ThemeCybercrime, Capability: models.CapCERTSetup, BudgetUSD: models.MaxBudgetUSD,
			Maturity: models.Maturity{Framework: models.FrameworkSIM3, Current: 3, Target: 1}},
		{Maturity: models.Maturity{Framework: models.FrameworkCMM, Current: 9, Target: -1}, Title: "\xff"},
		{Languages: make([]string, 500)},
	} {
		collect(n.Validate())
	}
	for _, o := range []models.Offer{
		{},
		{Themes: []models.Theme{models.ThemeCybercrime}, Capabilities: []models.Capability{models.CapCERTSetup},
			EligibleCountries: []string{"XX"}, EligibleRegions: []string{"999"}, AvailableFrom: "2028-01-01", AvailableUntil: "2027-01-01"},
		{ContactName: "Programme desk"},
		{ContactName: "a\x00b", ContactEmail: "Desk <desk@example.org>"},
	} {
		collect(o.Validate())
	}
	collect(matching.Weights{Capability: 2, Language: 0.12345}.Validate())
	collect(matching.Weights{Capability: 0.5}.Validate())
	var p models.Problems
	offer := &models.Offer{BudgetUSD: 100, AvailableFrom: "2027-01-01", AvailableUntil: "2027-12-31"}
	models.CheckTerms(models.Terms{BudgetUSD: 500, Start: "2026-01-01", End: "2028-01-01"}, offer, &p)
	models.CheckProjectDates(&p, "2027-02-01", "2027-11-01", offer, &models.Engagement{StartDate: "2027-03-01", EndDate: "2027-10-01"})
	models.CheckPeriod(&p, "start_date", "2027-13-01", "end_date", "2027-01-01")
	collect(p.Err())

	codes := map[string]bool{}
	c := Default()
	for _, f := range fields {
		require.Contains(t, models.ProblemCodes, f.Code, "%s: a code the validators write must be listed", f.Field)
		codes[f.Code] = true
		for _, lang := range c.Langs() {
			s := c.For(lang).Problem(f.Code, f.Args)
			assert.NotContains(t, s, "{", "%s %s", lang, f.Code)
			assert.NotEqual(t, c.For(lang).Problem("no-such-code", nil), s, "%s %s has its own message", lang, f.Code)
			assert.Less(t, len(s), 400, "%s %s: a value was echoed in full", lang, f.Code)
		}
	}
	assert.Greater(t, len(codes), 25)

	es := c.For("es")
	capTheme := models.Args{"capability": models.ArgOf(models.KindCapability, models.CapCERTSetup),
		"theme": models.ArgOf(models.KindTheme, models.ThemeIncidentManagement), "chosen": models.ArgOf(models.KindTheme, models.ThemeCybercrime)}
	assert.Equal(t, "«Creación de un CERT/CSIRT nacional» pertenece al tema «Gestión de incidentes y protección de infraestructuras críticas», no a «Ciberdelincuencia»: elija una capacidad del tema elegido.",
		es.Problem(models.ProblemCapabilityTheme, capTheme))
	assert.Equal(t, "Indique un valor de 1 US$ a 9.999.999.999 US$.", es.Problem(models.ProblemRange, models.BudgetRange()))
	assert.Equal(t, "Revise este valor.", es.Problem("something nobody foresaw", nil))
	fr := c.For("fr")
	assert.Equal(t, "Trop long : 200 caractères au maximum (il y en a 201).", fr.Problem(models.ProblemTooLong,
		models.Args{"max": models.ArgInt(200), "got": models.ArgInt(201)}))
	assert.Equal(t, "Choisissez l'une de ces valeurs : high, medium ou low.", fr.Problem(models.ProblemOneOf, models.OneOf(models.Priorities)))
	assert.Equal(t, "Indiquez une date réelle au format année-mois-jour, p. ex. 2027-03-01 (et non « 2027-02-30 »).",
		fr.Problem(models.ProblemDateInvalid, models.Args{"got": models.ArgSent("2027-02-30")}))
	assert.Equal(t, "Ne peut pas être inférieur aux 3 engagements déjà conclus.", fr.Problem(models.ProblemBelowUsed, models.Args{"count": models.ArgInt(3)}))

	got := c.For("en").FieldErrors([]models.FieldError{{Field: "title", Code: models.ProblemRequired}})
	assert.Equal(t, []models.FieldError{{Field: "title", Code: models.ProblemRequired, Message: "This field is required."}}, got)
}

func TestNotificationsReadInTheReadersLanguage(t *testing.T) {
	c := Default()
	n := &models.Notification{Kind: service.KindWithdrawn, Args: models.Args{"need": models.ArgText("CSIRT"), "offer": models.ArgText("Programme")}}
	assert.Equal(t, "The engagement proposal between the need “CSIRT” and the offer “Programme” was withdrawn", c.Notice("en", n))
	n.Args["reason"] = models.ArgText("budget moved")
	assert.Equal(t, "La proposition d'engagement entre le besoin « CSIRT » et l'offre « Programme » a été retirée : budget moved", c.Notice("fr", n))
	m := &models.Notification{Kind: service.KindMatch, Args: models.Args{"need": models.ArgText("N"), "offer": models.ArgText("O"),
		"country": models.ArgOf(models.KindCountry, "SN"), "score": models.ArgNumber(0.85)}}
	assert.Equal(t, "La necesidad «N» (Senegal) y la oferta «O» coinciden (puntuación 0,85)", c.Notice("es", m))
	legacy := &models.Notification{Kind: service.KindAccepted, Text: "An engagement was agreed"}
	assert.Equal(t, "An engagement was agreed", c.Notice("fr", legacy), "a notification stored with its text keeps it")
	unknown := &models.Notification{Kind: "some_future_kind", Args: models.Args{"country": models.ArgOf(models.KindCountry, "SN")}}
	assert.Equal(t, "some_future_kind", c.Notice("fr", unknown), "a kind without a message yet shows its kind")
	poc := &models.Notification{Kind: service.KindPoCCheck, Args: models.Args{"country": models.ArgOf(models.KindCountry, "SN")}}
	assert.Equal(t, "Un test de communication a atteint un point de contact de Sénégal : confirmez-le avec le lien de l’e-mail ou de la page des notifications",
		c.Notice("fr", poc))

	var kinds []string
	for _, k := range service.NotificationKinds {
		for _, lang := range c.Langs() {
			s := c.Notice(lang, &models.Notification{Kind: k, Args: models.Args{"need": models.ArgText("N"), "offer": models.ArgText("O"),
				"country": models.ArgOf(models.KindCountry, "SN"), "capability": models.ArgOf(models.KindCapability, models.CapAwareness),
				"score": models.ArgNumber(0.9), "reason": models.ArgText("R")}})
			assert.NotContains(t, s, "{", "%s %s", lang, k)
			assert.NotEqual(t, k, s, "%s %s", lang, k)
		}
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	t.Log(fmt.Sprint(kinds))
}

// TestDurations: the time a Point of Contact took to answer, written the short way in each language.
func TestDurations(t *testing.T) {
	c := Default()
	sec := func(n int64) *int64 { return &n }
	en, fr := c.For("en"), c.For("fr")
	assert.Equal(t, "", en.Duration(nil))
	assert.Equal(t, "42 s", en.Duration(sec(42)))
	assert.Equal(t, "5 min", en.Duration(sec(5*60+7)))
	assert.Equal(t, "3 h 20 min", en.Duration(sec(3*3600+20*60)))
	assert.Equal(t, "2 d 4 h", en.Duration(sec(2*86400+4*3600+59)))
	assert.Equal(t, "2 j 4 h", fr.Duration(sec(2*86400+4*3600)))
	assert.Equal(t, "0 s", en.Duration(sec(-3)), "a clock that went back is not a negative time")
}

// TestEveryCountMessageHasTheLanguagesPluralForms: a count message defines, in each language,
// every CLDR plural category that language uses for whole numbers (Arabic: zero, one, two, few,
// many, other; Russian: one, few, many, other), so that no count falls back to a wrong form.
func TestEveryCountMessageHasTheLanguagesPluralForms(t *testing.T) {
	c := Default()
	for _, lang := range c.Langs() {
		used := map[string]bool{}
		for n := 0; n <= 1000; n++ {
			used[PluralForm(c.For(lang).tag, n)] = true
		}
		for k := range c.msgs["en"] {
			base, ok := strings.CutSuffix(k, ".other")
			if !ok {
				continue
			}
			for form := range used {
				assert.Contains(t, c.msgs[lang], base+"."+form, "%s: %s needs its %s form", lang, base, form)
			}
		}
	}
	ar, ru := c.For("ar"), c.For("ru")
	for n, want := range map[int]string{0: "zero", 1: "one", 2: "two", 3: "few", 10: "few", 11: "many", 99: "many", 100: "other", 102: "other"} {
		assert.Equal(t, want, PluralForm(ar.tag, n), "ar %d", n)
	}
	for n, want := range map[int]string{1: "one", 21: "one", 2: "few", 24: "few", 5: "many", 11: "many", 0: "many"} {
		assert.Equal(t, want, PluralForm(ru.tag, n), "ru %d", n)
	}
	months := func(l *Localizer, n int) string { return l.N("common.months", n) }
	assert.Equal(t, "1 месяц", months(ru, 1))
	assert.Equal(t, "3 месяца", months(ru, 3))
	assert.Equal(t, "18 месяцев", months(ru, 18))
	assert.Equal(t, "21 месяц", months(ru, 21))
	assert.Equal(t, "شهر واحد", months(ar, 1))
	assert.Equal(t, "شهران", months(ar, 2))
	assert.Equal(t, "٣ أشهر", months(ar, 3))
	assert.Equal(t, "١٨ شهرًا", months(ar, 18))
	assert.Equal(t, "١٠٠ شهر", months(ar, 100))
	assert.Equal(t, "18个月", months(c.For("zh"), 18))
	problem := models.Args{"count": models.ArgInt(3)}
	assert.Equal(t, "Не может быть меньше 3 уже согласованных взаимодействий.", ru.Problem(models.ProblemBelowUsed, problem))
}

// TestDatesAndNumbersInTheNewLanguages: numbers, money and dates in Arabic (Arabic-Indic
// digits, CLDR's default for ar), Chinese and Russian.
func TestDatesAndNumbersInTheNewLanguages(t *testing.T) {
	c := Default()
	for _, tc := range []struct{ lang, money, date, num string }{
		{"ar", "١٬٢٣٤٬٥٦٧ دولار أمريكي", "١ مارس ٢٠٢٧", "٨٧٫٥"},
		{"zh", "1,234,567美元", "2027年3月1日", "87.5"},
		{"ru", "1\u00a0234\u00a0567 долл. США", "1 мар. 2027 г.", "87,5"},
	} {
		l := c.For(tc.lang)
		assert.Equal(t, tc.money, l.Money(1234567), tc.lang)
		assert.Equal(t, tc.date, l.Date(models.Date("2027-03-01")), tc.lang)
		assert.Equal(t, tc.num, l.Points(0.875), tc.lang)
	}
	assert.Equal(t, "السنغال", c.For("ar").Country("SN"))
	assert.Equal(t, "塞内加尔", c.For("zh").Country("SN"))
	assert.Equal(t, "Кот-д’Ивуар", c.For("ru").Country("CI"))
	assert.Equal(t, "الجريمة السيبرانية", c.For("ar").Label(models.KindTheme, models.ThemeCybercrime))
	assert.Equal(t, "网络犯罪", c.For("zh").Label(models.KindTheme, models.ThemeCybercrime))
	assert.Equal(t, "Киберпреступность", c.For("ru").Label(models.KindTheme, models.ThemeCybercrime))
	assert.Equal(t, "الولوفية", c.For("ar").Label(models.KindLanguage, "wo"), "language names from CLDR")
	assert.Equal(t, "Западная Африка", c.For("ru").Label(models.KindRegion, "011"))
}
