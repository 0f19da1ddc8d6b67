package web

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capmatch/capmatch/i18n"
	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"
)

func testCatalogs(t *testing.T) *i18n.Catalog {
	t.Helper()
	c, err := loadCatalogs(i18nFS)
	require.NoError(t, err)
	return c
}

// webMessages is the web's own bundle in one language: the keys it defines beside the shared
// catalog's.
func webMessages(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := fs.ReadFile(i18nFS, "i18n/"+lang+".json")
	require.NoError(t, err)
	m := map[string]string{}
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// TestEveryMessageExistsInEveryLanguage checks that every key the templates and the Go code
// use, literally or by pattern, is in the catalogs (the shared messages or the web's bundle;
// loadCatalogs already checks that every language defines the same keys, none empty, and
// that no key is defined twice), and that the web's bundle holds no message nothing uses.
func TestEveryMessageExistsInEveryLanguage(t *testing.T) {
	cats := testCatalogs(t)
	en := cats.Messages("en")
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
			used[columnKey(cats.For("en"), ds.Name, c.Name)] = true
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
	for k := range needLabels(cats.For("en")) {
		used["need.field."+strings.ReplaceAll(k, ".", "_")] = true
	}
	for k := range offerLabels(cats.For("en")) {
		used["offer.field."+k] = true
	}
	for _, src := range []models.ReadinessSource{models.ReadinessDeclared, models.ReadinessAssessment, models.ReadinessDerived} {
		used["readiness.source."+string(src)] = true // the readiness history (country_profile.go)
	}
	for k := range sourceLabels(cats.For("en")) {
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
	for _, unit := range []string{"d", "h", "min", "s"} { // Localizer.Duration (a PoC's time to acknowledge)
		used["dur."+unit] = true
	}
	for _, plural := range []string{"map.open_needs", "map.active_projects"} { // L.N(...) in map.go
		used[plural] = true
	}
	for k := range used { // a count message (L.N) uses every plural form its catalogs define
		if _, ok := en[k+".other"]; ok {
			delete(used, k)
			for _, lang := range cats.Langs() {
				for _, form := range i18n.PluralForms() {
					if _, ok := cats.Messages(lang)[k+"."+form]; ok {
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
		if i := strings.LastIndexByte(k, '.'); i > 0 && slices.Contains([]string{"zero", "two", "few", "many"}, k[i+1:]) {
			if _, ok := en[k[:i]+".other"]; ok {
				continue // a plural form only some languages have (Arabic, Russian)
			}
		}
		assert.Contains(t, en, k, "message %q is used but not in the catalogs", k)
	}
	for _, lang := range cats.Langs() {
		for k := range webMessages(t, lang) {
			assert.True(t, used[k], "message %q is in the web's %s catalog but never used", k, lang)
		}
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
		{"ar", "١٬٢٣٤٬٥٦٧ دولار أمريكي", "١ مارس ٢٠٢٧", "٥ ديسمبر ٢٠٢٦", "لا احتياجات مفتوحة", "احتياج مفتوح واحد", "احتياجان مفتوحان"},
		{"zh", "1,234,567美元", "2027年3月1日", "2026年12月5日", "0项开放需求", "1项开放需求", "2项开放需求"},
		{"ru", "1\u00a0234\u00a0567 долл. США", "1 мар. 2027 г.", "5 дек. 2026 г.", "0 открытых потребностей", "1 открытая потребность", "2 открытые потребности"},
	} {
		L := cats.For(tc.lang)
		assert.Equal(t, tc.money, L.Money(1234567), tc.lang)
		assert.Equal(t, tc.date, L.Date(d), tc.lang)
		assert.Equal(t, tc.ts, L.Date(ts), tc.lang)
		assert.Equal(t, tc.plural0, L.N("map.open_needs", 0), tc.lang)
		assert.Equal(t, tc.plural1, L.N("map.open_needs", 1), tc.lang)
		assert.Equal(t, tc.plural2, L.N("map.open_needs", 2), tc.lang)
	}
	// The plural forms only some languages have: Arabic "few" (3-10) and "many" (11-99), Russian "few" and "many".
	assert.Equal(t, "٣ احتياجات مفتوحة", cats.For("ar").N("map.open_needs", 3))
	assert.Equal(t, "١١ احتياجًا مفتوحًا", cats.For("ar").N("map.open_needs", 11))
	assert.Equal(t, "3 открытые потребности", cats.For("ru").N("map.open_needs", 3))
	assert.Equal(t, "11 открытых потребностей", cats.For("ru").N("map.open_needs", 11))
	// CLDR plural categories, not "n == 1".
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{{"en", 0, "other"}, {"en", 1, "one"}, {"fr", 0, "one"}, {"fr", 1, "one"}, {"fr", 2, "other"}, {"es", 1, "one"},
		{"es", 0, "other"}, {"ru", 3, "few"}, {"ru", 5, "many"}, {"ar", 2, "two"}} {
		assert.Equal(t, tc.want, i18n.PluralForm(language.Make(tc.lang), tc.n), "%s %d", tc.lang, tc.n)
	}
	fr := cats.For("fr")
	assert.Equal(t, "Sénégal", fr.Country("SN"))
	assert.Equal(t, "Cybercriminalité", fr.Label(models.KindTheme, models.ThemeCybercrime))
	assert.Equal(t, "Afrique occidentale", fr.Label(models.KindRegion, "011"))
	assert.Equal(t, "Formatif", fr.Stage(models.FrameworkCMM, 2))
	assert.Equal(t, "Côte d’Ivoire", cats.For("es").Country("CI"))
	assert.Equal(t, "not-a-date", fr.Date(models.Date("not-a-date")))
	assert.Equal(t, "Trop long : 200 caractères au maximum (il y en a 250).",
		fr.Problem(models.ProblemTooLong, models.Args{"max": models.ArgInt(200), "got": models.ArgInt(250)}))
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
	// The first request is inside the call (held by release) and the four others wait for it.
	require.Eventually(t, func() bool { return calls.Load() == 1 && r.shared.Load() == 4 }, 5*time.Second, time.Millisecond,
		"four requests wait for the first one's refresh")
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
