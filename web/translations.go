package web

import (
	"html/template"

	"github.com/capmatch/capmatch/models"
)

// The need and offer forms ask for the language their title and description are written in
// ("lang") and offer a translation into each of the six UN languages, in fields named like the
// domain's ("translations.fr.title", "translations.fr.description"), so that a validation
// problem lands next to its field.

// trField is the form field of a translation's title or description.
func trField(lang, part string) string { return "translations." + lang + "." + part }

// translationsOf reads the language of the text and the translations a form holds: a language
// with a title or a description is a translation (its title required by the domain); one left
// empty is none, and is removed by the patch (which leaves languages the form does not show,
// added through the API, alone).
func translationsOf(f *form) (lang string, tr map[string]models.Translation, patch map[string]*models.Translation) {
	patch = map[string]*models.Translation{}
	for _, l := range models.SupportedLangs {
		t := models.Translation{Title: f.Get(trField(l, "title")), Description: f.Get(trField(l, "description"))}
		if models.CleanText(t.Title) == "" && models.CleanText(t.Description) == "" {
			patch[l] = nil
			continue
		}
		if tr == nil {
			tr = map[string]models.Translation{}
		}
		tr[l], patch[l] = t, &t
	}
	return f.Get("lang"), tr, patch
}

// defaultTextLang presets the language of the text to the author's (the page's) on a new form,
// until the form carries a choice ("" included: not said).
func defaultTextLang(r *req, f *form) {
	if _, ok := f.Values["lang"]; !ok {
		f.Values.Set("lang", r.L.Lang)
	}
}

// setTranslationValues fills a form with a stored text's language and translations.
func setTranslationValues(f *form, lang string, tr map[string]models.Translation) {
	f.Values.Set("lang", lang)
	for l, t := range tr {
		f.Values.Set(trField(l, "title"), t.Title)
		f.Values.Set(trField(l, "description"), t.Description)
	}
}

// addTranslationLabels adds the names of the fields of the translations to a form's labels
// for the error summary.
func addTranslationLabels(L *Localizer, m map[string]string) map[string]string {
	m["lang"] = L.T("text.lang")
	m["translations"] = L.T("text.translations")
	for _, l := range models.SupportedLangs {
		m["translations."+l] = L.Label(models.KindLanguage, l)
		name := L.LanguageInSentence(l)
		m[trField(l, "title")] = L.T("text.tr_title", name)
		m[trField(l, "description")] = L.T("text.tr_description", name)
	}
	return m
}

// localText is what a reader sees of a need's or an offer's title and description (a
// translation into their language, else the original); see models.LocalText.
type localText interface {
	In(lang string) models.LocalText
}

// local is the template function giving x's text in the page's language.
func local(L *Localizer, x localText) models.LocalText { return x.In(L.Lang) }

// textAttrs are the attributes of an element holding a title or (part "description") a
// description that is not in the page's language: lang names its language so that browsers,
// screen readers and translation tools treat it as such, and dir="auto" lets an Arabic original
// run right to left in a left-to-right page and the other way round.
func textAttrs(t models.LocalText, part string) template.HTMLAttr {
	lang := ""
	switch {
	case part == "description" && t.DescriptionLang != "":
		lang = t.DescriptionLang
	case t.Fallback:
		lang = t.Lang
	}
	if lang == "" || !validAttrLang(lang) {
		return ""
	}
	return template.HTMLAttr(` lang="` + lang + `" dir="auto"`)
}

// validAttrLang accepts what the domain stores as a language: an ISO 639-1 code, or "und".
func validAttrLang(l string) bool {
	if l == "und" {
		return true
	}
	return models.ValidLanguage(l)
}
