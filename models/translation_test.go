package models

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// codesByField maps each field of a validation error to its problem code.
func codesByField(t *testing.T, err error) map[string]string {
	t.Helper()
	problemFields(t, err) // checks the codes are listed and carry no words
	var de *Error
	if !errors.As(err, &de) {
		t.Fatalf("%v is not a *models.Error", err)
	}
	out := map[string]string{}
	for _, f := range de.Fields {
		out[f.Field] = f.Code
	}
	return out
}

// TestTranslationsAreValidated: a need or an offer may carry its title and description in other
// languages; each translation is into a known language other than the original's, has a title,
// and keeps to the original's limits; the language codes are cleaned first.
func TestTranslationsAreValidated(t *testing.T) {
	n := validNeed()
	n.Lang = " EN "
	n.Translations = map[string]Translation{" FR": {Title: "  Créer un CSIRT national ", Description: "Le Sénégal veut un CSIRT."},
		"ar": {Title: "إنشاء فريق وطني"}}
	n.Normalize()
	if err := n.Validate(); err != nil {
		t.Fatalf("a valid need with translations: %v", err)
	}
	if n.Lang != "en" || n.Translations["fr"].Title != "Créer un CSIRT national" {
		t.Errorf("normalized: %q %+v", n.Lang, n.Translations)
	}

	bad := validNeed()
	bad.Lang = "xx"
	bad.Translations = map[string]Translation{"qq": {Title: "x"}, "fr": {Title: " "},
		"es": {Title: strings.Repeat("a", MaxTitleRunes+1), Description: "a\x00b"}}
	bad.Normalize()
	want := map[string]string{"lang": ProblemUnknownLanguage, "translations.qq": ProblemUnknownLanguage,
		"translations.fr.title": ProblemRequired, "translations.es.title": ProblemTooLong,
		"translations.es.description": ProblemControlChar}
	if got := codesByField(t, bad.Validate()); !reflect.DeepEqual(got, want) {
		t.Errorf("problems %v, want %v", got, want)
	}

	own := validOffer()
	own.Lang = "fr"
	own.Translations = map[string]Translation{"fr": {Title: "Programme"}}
	if got := codesByField(t, own.Validate()); got["translations.fr"] != ProblemTranslationOwnLang {
		t.Errorf("a translation into the original's language: %v", got)
	}

	many := validOffer()
	many.Translations = map[string]Translation{}
	for _, l := range []string{"ar", "zh", "fr", "es", "ru", "pt", "de", "it", "sw", "ha", "wo"} {
		many.Translations[l] = Translation{Title: "t"}
	}
	if got := codesByField(t, many.Validate()); !reflect.DeepEqual(got, map[string]string{"translations": ProblemListTooLong}) {
		t.Errorf("more than %d translations: %v", MaxTranslations, got)
	}
}

// TestReadersSeeTheirLanguage: a reader sees the author's translation into their language, else
// the original marked as a fallback with its language; a translation without a description
// shows the original description, marked with the original's language.
func TestReadersSeeTheirLanguage(t *testing.T) {
	n := validNeed()
	n.Lang = "en"
	n.Translations = map[string]Translation{"fr": {Title: "CSIRT national", Description: "Le Sénégal veut un CSIRT."},
		"es": {Title: "CSIRT nacional"}}
	for _, tc := range []struct {
		reader string
		want   LocalText
	}{
		{"fr-SN", LocalText{Lang: "fr", Title: "CSIRT national", Description: "Le Sénégal veut un CSIRT."}},
		{"en", LocalText{Lang: "en", Title: n.Title, Description: n.Description}},
		{"ar", LocalText{Lang: "en", Title: n.Title, Description: n.Description, Fallback: true}},
		{"es", LocalText{Lang: "es", Title: "CSIRT nacional", Description: n.Description, DescriptionLang: "en"}},
	} {
		if got := n.In(tc.reader); got != tc.want {
			t.Errorf("%s reads %+v, want %+v", tc.reader, got, tc.want)
		}
	}
	unknown := validOffer()
	unknown.Translations = map[string]Translation{"zh": {Title: "方案"}}
	if got := unknown.In("ru"); got.Fallback || got.Lang != "" || got.Title != unknown.Title {
		t.Errorf("an original of unknown language is shown unmarked: %+v", got)
	}
	if got := unknown.In("zh"); fmt.Sprint(got.Lang, got.Title, got.DescriptionLang) != "zh方案und" {
		t.Errorf("a translated title over a description of unknown language: %+v", got)
	}
}
