package web_test

import (
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// catalogKeys are the keys of the English catalogs (the web's bundle and the shared messages):
// a page that shows one of them as text shows a message the catalog of its language lacks
// (Localizer.T answers a missing key with the key itself).
func catalogKeys(t *testing.T) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	for _, f := range []string{"i18n/en.json", "../i18n/messages/en.json"} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		m := map[string]string{}
		require.NoError(t, json.Unmarshal(b, &m))
		for k := range m {
			keys[k] = true
			if i := strings.LastIndexByte(k, '.'); i > 0 {
				keys[k[:i]] = true // a plural message's base key (L.N)
			}
		}
	}
	return keys
}

// keyLike finds what could be a message key: dotted lower-case words.
var keyLike = regexp.MustCompile(`[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+`)

// missingKeys lists the catalog keys a page shows as text or in an attribute (a message its
// language lacks).
func missingKeys(body string, keys map[string]bool) []string {
	var out []string
	for _, m := range keyLike.FindAllStringIndex(body, -1) {
		k := body[m[0]:m[1]]
		if !keys[k] || m[0] == 0 || m[1] >= len(body) {
			continue
		}
		before, after := body[m[0]-1], body[m[1]]
		if (before == '>' || before == '"' || before == ' ') && (after == '<' || after == '"' || after == ' ') {
			out = append(out, k)
		}
	}
	return out
}

var htmlTag = regexp.MustCompile(`<html lang="([a-z]+)" dir="(rtl|ltr)">`)

// TestEveryPageRendersInEveryLanguage renders every page of the web authorization table (each
// GET row, and each form refused with 422, as the first actor allowed to see it) in the six
// official languages of the United Nations, chosen by Accept-Language: each answers with its
// language in <html lang> and Content-Language, Arabic right to left, and no message key shows
// through where a translation is missing.
func TestEveryPageRendersInEveryLanguage(t *testing.T) {
	w := newWebWorld(t)
	keys := catalogKeys(t)
	require.True(t, keys["nav.language"])
	require.Equal(t, []string{"status.open"}, missingKeys(`<p>status.open</p><a href="/x.css">`, keys), "the check finds a key")
	seen := 0
	for i, row := range w.rows() {
		if i%tableSample != 0 {
			continue // under -race only a sample (race_on_test.go)
		}
		actor := ""
		for _, a := range webActors {
			if want := row.want[a]; (row.method == "GET" && want == sawPage) || (row.method == "POST" && want == invalid) {
				actor = a
				break
			}
		}
		if actor == "" || row.fresh || row.twin {
			continue
		}
		path := row.path(w, actor)
		for _, lang := range models.SupportedLangs {
			b, tok := w.session(row, actor)
			b.lang = lang + ";q=1, en;q=0.5"
			var p page
			if row.method == "POST" {
				form := url.Values{}
				if row.form != nil {
					form = row.form(w, actor)
				}
				form.Set("_csrf", tok)
				p = b.do("POST", path, form)
			} else {
				p = b.get(path)
			}
			b.lang = ""
			if !strings.Contains(p.Header.Get("Content-Type"), "text/html") {
				break // a file (CSV, JSON, XML): no words of the UI
			}
			require.Contains(t, []int{200, 422}, p.Status, "%s %s as %s in %s: %.300s", row.method, path, actor, lang, p.Body)
			seen++
			m := htmlTag.FindStringSubmatch(p.Body)
			require.NotNil(t, m, "%s %s in %s: <html lang dir>", row.method, path, lang)
			assert.Equal(t, lang, m[1], "%s %s", row.method, path)
			assert.Equal(t, lang, p.Header.Get("Content-Language"), "%s %s", row.method, path)
			wantDir := "ltr"
			if lang == "ar" {
				wantDir = "rtl"
			}
			assert.Equal(t, wantDir, m[2], "%s %s in %s", row.method, path, lang)
			assert.Empty(t, missingKeys(p.Body, keys), "%s %s as %s in %s: keys without a message", row.method, path, actor, lang)
		}
	}
	assert.Greater(t, seen, 6*40/tableSample, "most pages were rendered")
}

// TestLanguageSwitchOffersTheSixLanguages: the switcher links every UN language, each named in
// itself, and remembers any of them.
func TestLanguageSwitchOffersTheSixLanguages(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	p := b.get("/needs")
	for _, name := range []string{"العربية", "中文", "English", "Français", "Русский", "Español"} {
		assert.Contains(t, p.Body, name)
	}
	for _, lang := range models.SupportedLangs {
		assert.Contains(t, p.Body, `href="/lang/`+lang+`?next=`, lang)
		assert.Equal(t, 303, b.get("/lang/"+lang+"?next=%2Fneeds").Status)
		p := b.get("/needs")
		assert.Contains(t, p.Body, `<html lang="`+lang+`"`, "the cookie keeps %s", lang)
	}
	b.get("/lang/ar?next=%2Fneeds")
	p = b.get("/needs")
	assert.Contains(t, p.Body, `<html lang="ar" dir="rtl">`)
	assert.Contains(t, p.Body, "الاحتياجات", "Arabic words")
	b.get("/lang/zh?next=%2Fneeds")
	assert.Contains(t, b.get("/needs").Body, "需求")
	b.get("/lang/ru?next=%2Fneeds")
	assert.Contains(t, b.get("/needs").Body, "Потребности")
}

// TestAuthorsTranslateAndReadersReadTheirLanguage: a ministry posts a need in English with a
// French translation through the form and adds Arabic in the edit form; a French reader sees the
// French title, an Arabic reader the Arabic one, a Russian reader the English original marked
// lang="en" with a note; lists do the same; a translation without a title is refused next to
// its field in the author's language. A donor translates an offer the same way.
func TestAuthorsTranslateAndReadersReadTheirLanguage(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	b.signIn(s.fx.ministry)
	p := b.get("/ministry/needs/new")
	tok := csrf(t, p)
	p = b.do("POST", "/ministry/needs", url.Values{"_csrf": {tok}, "op": {"refresh"}, "theme": {"incident_management"}, "capability": {"cert_setup"}})
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `<option value="en" selected>`, "the text's language defaults to the author's")
	for _, l := range models.SupportedLangs {
		assert.Contains(t, p.Body, `name="translations.`+l+`.title"`, l)
	}
	p = b.do("POST", "/ministry/needs", needForm(url.Values{"_csrf": {tok}, "op": {"save"}, "lang": {"en"},
		"translations.fr.title": {"CSIRT national du Sénégal"}, "translations.fr.description": {"Créer le CSIRT national."}}))
	require.Equal(t, 303, p.Status, p.Body)
	all := s.h.Needs()
	require.Len(t, all, 1)
	n := all[0]
	assert.Equal(t, "en", n.Lang)
	assert.Equal(t, map[string]models.Translation{"fr": {Title: "CSIRT national du Sénégal", Description: "Créer le CSIRT national."}}, n.Translations)

	// The edit form shows them; a translation without a title is refused next to its field.
	edit := "/ministry/needs/" + n.ID + "/edit"
	p = b.get(edit)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `value="CSIRT national du Sénégal"`)
	form := needForm(url.Values{"_csrf": {tok}, "op": {"save"}, "lang": {"en"}, "version": {"1"},
		"translations.fr.title": {"CSIRT national du Sénégal"}, "translations.ar.description": {"وصف بلا عنوان"}})
	b.lang = "fr"
	p = b.do("POST", edit, form)
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-translations-ar-title-err">Ce champ est obligatoire.`)
	assert.Contains(t, p.Body, `Titre en arabe`, "the error summary names the field")
	form.Set("translations.ar.title", "الفريق الوطني للاستجابة لحوادث الحاسوب في السنغال")
	p = b.do("POST", edit, form)
	require.Equal(t, 303, p.Status, p.Body)
	b.lang = ""
	_, err := s.app.Needs.Transition(t.Context(), s.actor(s.fx.ministry), n.ID, models.NeedSubmit, "")
	require.NoError(t, err)
	_, err = s.app.Needs.Transition(t.Context(), s.actor(s.fx.coord), n.ID, models.NeedApprove, "")
	require.NoError(t, err)

	reader := s.browser()
	for _, tc := range []struct{ lang, want, not string }{
		{"fr", `<h1>CSIRT national du Sénégal</h1>`, "National CSIRT for Senegal"},
		{"ar", `<h1>الفريق الوطني للاستجابة لحوادث الحاسوب في السنغال</h1>`, "National CSIRT for Senegal"},
		{"ru", `<h1 lang="en" dir="auto">National CSIRT for Senegal</h1>`, "CSIRT national"},
		{"en", `<h1>National CSIRT for Senegal</h1>`, "CSIRT national"},
	} {
		reader.lang = tc.lang
		p = reader.get("/needs/" + n.ID)
		assertPage(t, p, 200)
		assert.Contains(t, p.Body, tc.want, tc.lang)
		assert.NotContains(t, p.Body, tc.not, tc.lang)
	}
	reader.lang = "ru"
	p = reader.get("/needs/" + n.ID)
	assert.Contains(t, p.Body, `class="hint fallback">Перевода на ваш язык нет: текст показан на языке «английский».`)
	assert.Contains(t, p.Body, `<div class="prose" lang="en" dir="auto">`)
	reader.lang = "ar"
	p = reader.get("/needs/" + n.ID)
	assert.Contains(t, p.Body, `<div class="prose"><p>وصف بلا عنوان</p>`, "the translated description")
	reader.lang = "fr"
	assert.Contains(t, reader.get("/needs").Body, `>CSIRT national du Sénégal</a>`, "lists show the reader's language")
	reader.lang = "zh"
	assert.Contains(t, reader.get("/needs").Body, `lang="en" dir="auto">National CSIRT for Senegal</a>`)

	// A donor's offer.
	d := s.browser()
	d.signIn(s.fx.donor)
	p = d.get("/donor/offers/new")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `name="translations.zh.title"`)
	p = d.do("POST", "/donor/offers", url.Values{"_csrf": {csrf(t, p)}, "op": {"save"}, "title": {"Forensics programme"}, "lang": {"en"},
		"translations.es.title": {"Programa de informática forense"}, "themes": {"cybercrime"}, "capabilities": {"digital_forensics"},
		"modalities": {"training"}, "languages": {"en"}, "budget_usd": {"100000"}, "max_engagements": {"2"},
		"available_from": {"2027-01-01"}, "available_until": {"2028-01-01"}})
	require.Equal(t, 303, p.Status, p.Body)
	offers := s.h.Offers()
	require.Len(t, offers, 1)
	assert.Equal(t, "Programa de informática forense", offers[0].Translations["es"].Title)
	d.lang = "es"
	assert.Contains(t, d.get("/offers/"+offers[0].ID).Body, `<h1>Programa de informática forense</h1>`)
}

// TestLanguageChoiceFollowsTheUser: a signed-in user's choice is kept on their account, so that
// signing in from another browser (another Accept-Language, no cookie) brings it back; a
// visitor's choice stays in their browser.
func TestLanguageChoiceFollowsTheUser(t *testing.T) {
	s := newStack(t)
	s.seed()
	b := s.browser()
	b.signIn(s.fx.ministry)
	require.Equal(t, 303, b.get("/lang/ar?next=%2Fministry").Status)
	assert.Contains(t, b.get("/ministry").Body, `<html lang="ar" dir="rtl">`)

	other := s.browser()
	other.lang = "fr"
	assert.Contains(t, other.get("/needs").Body, `<html lang="fr"`, "before signing in: the browser's language")
	p := other.signIn(s.fx.ministry)
	lc := findCookie(p.Set, "capmatch_lang")
	require.NotNil(t, lc, "signing in sets the account's language")
	assert.Equal(t, "ar", lc.Value)
	assert.Contains(t, other.get("/ministry").Body, `<html lang="ar" dir="rtl">`)

	visitor := s.browser()
	visitor.get("/lang/zh?next=%2F")
	fresh := s.browser()
	fresh.signIn(s.fx.donor)
	assert.Contains(t, fresh.get("/donor").Body, `<html lang="en"`, "another user's or a visitor's choice is not the donor's")
}
