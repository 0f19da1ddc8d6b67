package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/i18n"
	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// matchesIn reads a ranking's factors as they come over the wire.
func matchesIn(t *testing.T, r resp) []matching.Factor {
	t.Helper()
	require.Equal(t, 200, r.Status, string(r.Body))
	var body struct {
		Items []struct {
			Factors []matching.Factor `json:"factors"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &body))
	require.NotEmpty(t, body.Items)
	var out []matching.Factor
	for _, it := range body.Items {
		require.Len(t, it.Factors, 9)
		out = append(out, it.Factors...)
	}
	return out
}

// TestReasonsAreWrittenInTheCallersLanguage: both ranking endpoints give every factor a stable
// code and its arguments, and its reason written in the caller's language: the lang query
// parameter, else Accept-Language, else English; the cached responses never mix languages.
func TestReasonsAreWrittenInTheCallersLanguage(t *testing.T) {
	n := newEnv(t).node()
	f := n.seed()
	offer := n.newOffer(t, "open")
	need := n.newNeed(t, "open", "public")
	cat := i18n.Default()
	for _, path := range []string{"/api/v1/needs/" + need + "/matches", "/api/v1/offers/" + offer + "/matches"} {
		for _, tc := range []struct {
			query  string
			header []string
			want   string
		}{
			{"", nil, "en"},
			{"", []string{"Accept-Language", "fr-SN,fr;q=0.9,en;q=0.5"}, "fr"},
			{"?lang=es", []string{"Accept-Language", "fr"}, "es"},
			{"?lang=de", []string{"Accept-Language", "de-DE,es;q=0.5"}, "es"},
			{"?lang=fr", nil, "fr"},
			{"?lang=ar", []string{"Accept-Language", "fr"}, "ar"},
			{"", []string{"Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5"}, "zh"},
			{"", []string{"Accept-Language", "de-DE,ru-RU;q=0.8"}, "ru"},
			{"?lang=zh-Hans", nil, "zh"},
			{"", nil, "en"},
		} {
			r := n.callRaw("GET", path+tc.query, f.coord.Token, "", "", tc.header...)
			assert.Equal(t, tc.want, r.Header["Content-Language"], "%s%s", path, tc.query)
			assert.Contains(t, r.Header["Vary"], "Accept-Language")
			for _, fc := range matchesIn(t, r) {
				require.Contains(t, matching.ReasonCodes, fc.Code, "%s: a stable code", fc.Name)
				want := cat.Reason(tc.want, fc.Code, fc.Args)
				assert.Equal(t, want, fc.Reason, "%s %s %s", path, tc.want, fc.Code)
				assert.NotContains(t, fc.Reason, "{")
			}
		}
	}
	// The words really are French and Spanish, from the arguments.
	fr := matchesIn(t, n.callRaw("GET", "/api/v1/needs/"+need+"/matches", f.coord.Token, "", "", "Accept-Language", "fr"))
	es := matchesIn(t, n.callRaw("GET", "/api/v1/needs/"+need+"/matches?lang=es", f.coord.Token, "", ""))
	assert.Equal(t, matching.ReasonCapabilityExact, fr[0].Code)
	assert.Equal(t, models.ArgOf(models.KindCapability, models.CapCERTSetup), fr[0].Args["capability"])
	assert.Equal(t, "L'offre couvre « Création d'un CERT/CSIRT national ».", fr[0].Reason)
	assert.Equal(t, "La oferta cubre «Creación de un CERT/CSIRT nacional».", es[0].Reason)
	assert.True(t, strings.HasPrefix(fr[3].Reason, "Le budget restant de "), fr[3].Reason)
	assert.True(t, strings.HasPrefix(es[3].Reason, "El presupuesto restante de "), es[3].Reason)
	// And Arabic, Chinese and Russian, with the catalogue's labels in those languages.
	for lang, want := range map[string]string{"ar": "يغطي العرض «", "zh": "该援助方案涵盖“", "ru": "Предложение охватывает «"} {
		got := matchesIn(t, n.callRaw("GET", "/api/v1/needs/"+need+"/matches?lang="+lang, f.coord.Token, "", ""))
		assert.True(t, strings.HasPrefix(got[0].Reason, want), "%s: %s", lang, got[0].Reason)
		assert.Contains(t, got[0].Reason, cat.For(lang).Label(models.KindCapability, models.CapCERTSetup), lang)
	}
}

// TestProblemsAreWrittenInTheCallersLanguage: every field problem of a 422 carries a stable
// code and its arguments, and its message in the caller's language.
func TestProblemsAreWrittenInTheCallersLanguage(t *testing.T) {
	n := newEnv(t).node()
	f := n.seed()
	body := needBody(&n.env.fx, "ministry", strings.Repeat("x", models.MaxTitleRunes+1))
	body["theme"], body["budget_usd"], body["start_by"] = "space", 0, "2027-02-30"
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	byField := func(r resp) map[string]models.FieldError {
		t.Helper()
		require.Equal(t, 422, r.Status, string(r.Body))
		out := map[string]models.FieldError{}
		for _, e := range r.problem(t).Errors {
			out[e.Field] = e
		}
		return out
	}
	en := byField(n.callRaw("POST", "/api/v1/needs", f.ministry.Token, "application/json", string(raw)))
	fr := byField(n.callRaw("POST", "/api/v1/needs", f.ministry.Token, "application/json", string(raw), "Accept-Language", "fr"))
	es := byField(n.callRaw("POST", "/api/v1/needs?lang=es", f.ministry.Token, "application/json", string(raw), "Accept-Language", "fr"))
	ar := byField(n.callRaw("POST", "/api/v1/needs", f.ministry.Token, "application/json", string(raw), "Accept-Language", "ar-SA,ar;q=0.9"))
	zh := byField(n.callRaw("POST", "/api/v1/needs?lang=zh", f.ministry.Token, "application/json", string(raw)))
	ru := byField(n.callRaw("POST", "/api/v1/needs", f.ministry.Token, "application/json", string(raw), "Accept-Language", "ru"))
	for field, code := range map[string]string{"title": models.ProblemTooLong, "theme": models.ProblemUnknownTheme,
		"budget_usd": models.ProblemRange, "start_by": models.ProblemDateInvalid} {
		for lang, got := range map[string]map[string]models.FieldError{"en": en, "fr": fr, "es": es, "ar": ar, "zh": zh, "ru": ru} {
			e, ok := got[field]
			require.True(t, ok, "%s: %s reported", lang, field)
			assert.Equal(t, code, e.Code, "%s %s", lang, field)
			assert.Equal(t, i18n.Default().For(lang).Problem(e.Code, e.Args), e.Message, "%s %s", lang, field)
		}
	}
	assert.Equal(t, "This is too long: at most 200 characters (it has 201).", en["title"].Message)
	assert.Equal(t, "Trop long : 200 caractères au maximum (il y en a 201).", fr["title"].Message)
	assert.Equal(t, "Demasiado largo: 200 caracteres como máximo (tiene 201).", es["title"].Message)
	assert.Equal(t, "النص طويل جدًا: ٢٠٠ حرفًا على الأكثر (عدد حروفه ٢٠١).", ar["title"].Message)
	assert.Equal(t, "内容过长：最多200个字符（现有201个）。", zh["title"].Message)
	assert.Equal(t, "Слишком длинный текст: не более 200 символов (сейчас 201).", ru["title"].Message)
	assert.Equal(t, models.ArgInt(200), en["title"].Args["max"])
	assert.Equal(t, "Tema desconocido: «space».", es["theme"].Message)
	assert.Equal(t, "Indiquez une valeur de 1 $ US à 9\u00a0999\u00a0999\u00a0999 $ US.", fr["budget_usd"].Message)

	// A problem found by the HTTP layer itself (a query parameter) too.
	r := n.callRaw("GET", "/api/v1/needs?limit=0", f.ministry.Token, "", "", "Accept-Language", "es")
	p := r.problem(t)
	require.Len(t, p.Errors, 1)
	assert.Equal(t, models.ProblemRange, p.Errors[0].Code)
	assert.Equal(t, "Indique un valor de 1 a 100.", p.Errors[0].Message)
}

// TestNotificationsAreWrittenInTheReadersLanguage: a notification is stored as its kind and
// arguments and written when read, in the reader's language.
func TestNotificationsAreWrittenInTheReadersLanguage(t *testing.T) {
	n := newEnv(t).node()
	f := n.seed()
	need := n.newNeed(t, "submitted", "public")
	require.Equal(t, 200, n.call("POST", "/api/v1/needs/"+need+"/reject", f.coord.Token, map[string]string{"reason": "Précisez le niveau SIM3"}).Status)
	item := func(r resp) map[string]any {
		t.Helper()
		require.Equal(t, 200, r.Status, string(r.Body))
		var body struct {
			Items []map[string]any `json:"items"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		for _, it := range body.Items {
			if it["kind"] == "rejected" && it["object_id"] == need {
				return it
			}
		}
		t.Fatalf("no rejection in %s", r.Body)
		return nil
	}
	title := "Need submitted public"
	en := item(n.callRaw("GET", "/api/v1/notifications", f.ministry.Token, "", ""))
	fr := item(n.callRaw("GET", "/api/v1/notifications", f.ministry.Token, "", "", "Accept-Language", "fr-FR"))
	es := item(n.callRaw("GET", "/api/v1/notifications?lang=es", f.ministry.Token, "", ""))
	assert.Equal(t, "Your need “"+title+"” was sent back to draft: Précisez le niveau SIM3", en["text"])
	assert.Equal(t, "Votre besoin « "+title+" » a été renvoyé en brouillon : Précisez le niveau SIM3", fr["text"])
	assert.Equal(t, "Su necesidad «"+title+"» volvió a borrador: Précisez le niveau SIM3", es["text"])
	for _, lang := range []string{"ar", "zh", "ru"} {
		got := item(n.callRaw("GET", "/api/v1/notifications", f.ministry.Token, "", "", "Accept-Language", lang))
		want := i18n.Default().Notice(lang, &models.Notification{Kind: "rejected", Args: models.Args{"need": models.ArgText(title), "reason": models.ArgText("Précisez le niveau SIM3")}})
		assert.Equal(t, want, got["text"], lang)
		assert.Contains(t, got["text"], title, lang)
		assert.NotContains(t, got["text"], "Your need", lang)
	}
	// Stored as the kind and its arguments: the words are written when read.
	stored, err := n.store.NotificationFeed(t.Context(), f.snOrg)
	require.NoError(t, err)
	var kept *models.Notification
	for i := range stored {
		if stored[i].Kind == "rejected" && stored[i].ObjectID == need {
			kept = &stored[i]
		}
	}
	require.NotNil(t, kept)
	assert.Empty(t, kept.Text, "no English sentence is stored")
	assert.Equal(t, models.ArgText(title), kept.Args["need"])

	args, ok := fr["args"].(map[string]any)
	require.True(t, ok, "the arguments travel with the text: %v", fr)
	assert.Equal(t, map[string]any{"kind": "text", "value": title}, args["need"])
	assert.Equal(t, map[string]any{"kind": "text", "value": "Précisez le niveau SIM3"}, args["reason"])
}

// TestCatalogueAndQuestionnaireInTheSixLanguages: the public vocabulary and the questionnaire
// answer in each UN language, from lang or Accept-Language.
func TestCatalogueAndQuestionnaireInTheSixLanguages(t *testing.T) {
	n := newEnv(t).node()
	themeLabel := func(body []byte) (string, string) {
		t.Helper()
		var doc struct {
			Lang   string `json:"lang"`
			Themes []struct {
				Code  string `json:"code"`
				Label string `json:"label"`
			} `json:"themes"`
		}
		require.NoError(t, json.Unmarshal(body, &doc))
		for _, th := range doc.Themes {
			if th.Code == string(models.ThemeCybercrime) {
				return doc.Lang, th.Label
			}
		}
		t.Fatalf("no cybercrime theme in %s", body)
		return "", ""
	}
	for _, lang := range models.SupportedLangs {
		want := models.Label(lang, models.KindTheme, string(models.ThemeCybercrime))
		r := n.callRaw("GET", "/api/v1/catalogue?lang="+lang, "", "", "")
		require.Equal(t, 200, r.Status, string(r.Body))
		got, label := themeLabel(r.Body)
		assert.Equal(t, lang, got)
		assert.Equal(t, want, label, lang)
		r = n.callRaw("GET", "/api/v1/catalogue", "", "", "", "Accept-Language", lang+"-XX,en;q=0.1")
		got, label = themeLabel(r.Body)
		assert.Equal(t, lang, got, "Accept-Language %s", lang)
		assert.Equal(t, want, label)
		q := n.callRaw("GET", "/api/v1/questionnaire?lang="+lang, "", "", "")
		require.Equal(t, 200, q.Status, string(q.Body))
		assert.Contains(t, string(q.Body), `"lang":"`+lang+`"`)
	}
	assert.NotEqual(t, models.Label("en", models.KindTheme, string(models.ThemeCybercrime)),
		models.Label("ar", models.KindTheme, string(models.ThemeCybercrime)), "Arabic is not English")
}
