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
	for _, row := range w.rows() {
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
	assert.Greater(t, seen, 6*40, "most pages were rendered")
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
