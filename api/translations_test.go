package api

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/i18n"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTranslationsOfNeedsAndOffers: authors post and patch the title and description of a need
// or an offer in other languages (a patch merges: a language set to null is removed); every
// answer carries `localized`, the text in the caller's language or the original marked as a
// fallback with its language; a bad translation is a 422 with codes and messages in the
// caller's language, and changes nothing.
func TestTranslationsOfNeedsAndOffers(t *testing.T) {
	n := newEnv(t).node()
	f := n.seed()
	body := needBody(&n.env.fx, "ministry", "Cybercrime legislation")
	body["lang"] = "en"
	body["translations"] = map[string]any{"fr": map[string]any{"title": "Législation sur la cybercriminalité", "description": "Réviser le code pénal."}}
	r := n.call("POST", "/api/v1/needs", f.ministry.Token, body)
	require.Equal(t, 201, r.Status, string(r.Body))
	id := r.json(t)["id"].(string)
	localized := func(r resp) map[string]any {
		t.Helper()
		require.Equal(t, 200, r.Status, string(r.Body))
		l, ok := r.json(t)["localized"].(map[string]any)
		require.True(t, ok, string(r.Body))
		return l
	}
	get := func(path, lang string) map[string]any {
		return localized(n.callRaw("GET", path, f.ministry.Token, "", "", "Accept-Language", lang))
	}
	assert.Equal(t, map[string]any{"lang": "fr", "title": "Législation sur la cybercriminalité", "description": "Réviser le code pénal.", "fallback": false},
		get("/api/v1/needs/"+id, "fr-FR"))
	assert.Equal(t, map[string]any{"lang": "en", "title": "Cybercrime legislation", "description": "Set up a national CSIRT with incident coordination services.", "fallback": true},
		get("/api/v1/needs/"+id, "ar"), "no Arabic translation: the original, marked with its language")
	assert.Equal(t, false, get("/api/v1/needs/"+id, "en")["fallback"])

	// A patch adds Arabic and removes French; the others stay.
	r = n.call("PATCH", "/api/v1/needs/"+id, f.ministry.Token, map[string]any{"translations": map[string]any{
		"ar": map[string]any{"title": "تشريعات الجريمة السيبرانية"}, "fr": nil}})
	require.Equal(t, 200, r.Status, string(r.Body))
	got := r.json(t)
	assert.Equal(t, map[string]any{"ar": map[string]any{"title": "تشريعات الجريمة السيبرانية"}}, got["translations"])
	ar := get("/api/v1/needs/"+id, "ar")
	assert.Equal(t, "تشريعات الجريمة السيبرانية", ar["title"])
	assert.Equal(t, "en", ar["description_lang"], "the original description follows a title-only translation")
	assert.Equal(t, true, get("/api/v1/needs/"+id, "fr")["fallback"])
	list := n.callRaw("GET", "/api/v1/needs?status=draft&organization_id="+f.snOrg+"&lang=ar", f.ministry.Token, "", "")
	require.Equal(t, 200, list.Status, string(list.Body))
	assert.Contains(t, string(list.Body), `"localized":{"lang":"ar","title":"تشريعات الجريمة السيبرانية"`)

	// Bad translations: every problem at once, nothing stored, words in the caller's language.
	bad := map[string]any{"lang": "xx", "translations": map[string]any{"qq": map[string]any{"title": "x"},
		"es": map[string]any{"title": " "}, "de": map[string]any{"title": strings.Repeat("a", models.MaxTitleRunes+1)}}}
	for _, lang := range models.SupportedLangs {
		r = n.callRaw("PATCH", "/api/v1/needs/"+id+"?lang="+lang, f.ministry.Token, "application/json", mustJSON(t, bad))
		require.Equal(t, 422, r.Status, string(r.Body))
		codes := map[string]string{}
		for _, e := range r.problem(t).Errors {
			codes[e.Field] = e.Code
			assert.Equal(t, i18n.Default().For(lang).Problem(e.Code, e.Args), e.Message, "%s %s", lang, e.Field)
		}
		assert.Equal(t, map[string]string{"lang": models.ProblemUnknownLanguage, "translations.qq": models.ProblemUnknownLanguage,
			"translations.es.title": models.ProblemRequired, "translations.de.title": models.ProblemTooLong}, codes, lang)
	}
	r = n.call("PATCH", "/api/v1/needs/"+id, f.ministry.Token, map[string]any{"translations": map[string]any{"en": map[string]any{"title": "Same"}}})
	require.Equal(t, 422, r.Status, string(r.Body))
	assert.Equal(t, models.ProblemTranslationOwnLang, r.problem(t).Errors[0].Code)
	r = n.call("GET", "/api/v1/needs/"+id, f.ministry.Token, nil)
	assert.Equal(t, map[string]any{"ar": map[string]any{"title": "تشريعات الجريمة السيبرانية"}}, r.json(t)["translations"], "a refused patch changes nothing")

	// Offers the same way.
	ob := offerBody("Digital forensics programme")
	ob["translations"] = map[string]any{"zh": map[string]any{"title": "数字取证方案", "description": "实验室"}}
	r = n.call("POST", "/api/v1/offers", f.donor.Token, ob)
	require.Equal(t, 201, r.Status, string(r.Body))
	oid := r.json(t)["id"].(string)
	r = n.call("PATCH", "/api/v1/offers/"+oid, f.donor.Token, map[string]any{"lang": "en", "translations": map[string]any{
		"ru": map[string]any{"title": "Программа цифровой криминалистики", "description": "Лаборатории"}}})
	require.Equal(t, 200, r.Status, string(r.Body))
	zh := localized(n.callRaw("GET", "/api/v1/offers/"+oid+"?lang=zh", f.donor.Token, "", ""))
	assert.Equal(t, "数字取证方案", zh["title"])
	ru := localized(n.callRaw("GET", "/api/v1/offers/"+oid, f.donor.Token, "", "", "Accept-Language", "ru-RU"))
	assert.Equal(t, "Программа цифровой криминалистики", ru["title"])
	es := localized(n.callRaw("GET", "/api/v1/offers/"+oid, f.donor.Token, "", "", "Accept-Language", "es"))
	assert.Equal(t, map[string]any{"lang": "en", "title": "Digital forensics programme", "description": "Francophone CSIRT establishment programme.", "fallback": true}, es)
}

// mustJSON encodes a request body.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestSearchAcrossLanguages: a search finds needs and offers by the names of their theme and
// capability in any of the six UN languages, and by their translations: "ciberdelincuencia"
// and "cybercriminalité" find a cybercrime need written in English (they found nothing before).
func TestSearchAcrossLanguages(t *testing.T) {
	n := newEnv(t).node()
	f := n.seed()
	b := needBody(&n.env.fx, "ministry", "Modernise the penal code")
	b["theme"], b["capability"], b["description"] = "cybercrime", "cybercrime_legislation", "Align the code with the Convention."
	b["maturity"] = map[string]any{"framework": "cmm", "current": 1, "target": 3}
	r := n.call("POST", "/api/v1/needs", f.ministry.Token, b)
	require.Equal(t, 201, r.Status, string(r.Body))
	law := r.json(t)["id"].(string)
	other := n.newNeed(t, "draft", "public") // a CSIRT need
	ids := func(path string) []string {
		t.Helper()
		r := n.call("GET", path, f.ministry.Token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		var out []string
		for _, it := range r.json(t)["items"].([]any) {
			out = append(out, it.(map[string]any)["id"].(string))
		}
		return out
	}
	for _, q := range []string{"ciberdelincuencia", "cybercriminalité", "Cybercriminalite", "киберпреступность", "网络犯罪", "الجريمة السيبرانية", "Legislación sobre ciberdelincuencia"} {
		assert.Equal(t, []string{law}, ids("/api/v1/needs?q="+url.QueryEscape(q)), q)
	}
	r = n.call("PATCH", "/api/v1/needs/"+other, f.ministry.Token, map[string]any{"translations": map[string]any{"es": map[string]any{"title": "Equipo nacional de respuesta"}}})
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Equal(t, []string{other}, ids("/api/v1/needs?q="+url.QueryEscape("equipo nacional")), "a translation's title")

	o := offerBody("Digital forensics labs")
	o["themes"], o["capabilities"] = []string{"cybercrime"}, []string{"digital_forensics"}
	r = n.call("POST", "/api/v1/offers", f.donor.Token, o)
	require.Equal(t, 201, r.Status, string(r.Body))
	oid := r.json(t)["id"].(string)
	r = n.call("GET", "/api/v1/offers?status=draft&q="+url.QueryEscape("informática forense"), f.donor.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Contains(t, string(r.Body), oid)
}
