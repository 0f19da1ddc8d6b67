package models

import (
	"slices"
	"strings"
)

// Translation is the title and description of a need or an offer in another language, added by
// its author, so that a reader of that language reads it in their own. The description may be
// left empty: the reader then sees the original one, marked with its language.
type Translation struct {
	Title       string `json:"title" bson:"title"`
	Description string `json:"description,omitempty" bson:"description,omitempty"`
}

// MaxTranslations bounds the translations of one need or offer: the six official languages of
// the United Nations and a few more (Portuguese, Swahili...), never a hostile map of thousands.
const MaxTranslations = 10

// LocalText is a need's or an offer's title and description as a reader of one language sees
// them: the author's translation into that language when there is one, else the original.
// Lang is the language it is written in ("" when the author did not say); Fallback says it is
// not in the reader's language, so that pages mark it with its lang attribute and clients can
// say so. DescriptionLang is set when the description is not in Lang (a translation of the
// title only: the original description follows).
type LocalText struct {
	Lang            string `json:"lang,omitempty"`
	Title           string `json:"title"`
	Description     string `json:"description"`
	Fallback        bool   `json:"fallback"`
	DescriptionLang string `json:"description_lang,omitempty"`
}

// localize picks what a reader of reader (a language tag, "fr-SN" is fr) sees of a title and
// description written in lang with the given translations.
func localize(reader, lang, title, desc string, tr map[string]Translation) LocalText {
	reader = strings.ToLower(strings.TrimSpace(reader))
	if i := strings.IndexAny(reader, "-_"); i >= 0 {
		reader = reader[:i]
	}
	if t, ok := tr[reader]; ok && reader != lang {
		out := LocalText{Lang: reader, Title: t.Title, Description: t.Description}
		if t.Description == "" && desc != "" {
			out.Description, out.DescriptionLang = desc, lang
			if lang == "" {
				out.DescriptionLang = "und" // the original's language is not known (BCP 47 "undetermined")
			}
		}
		return out
	}
	return LocalText{Lang: lang, Title: title, Description: desc, Fallback: lang != "" && lang != reader}
}

// In is the need's title and description for a reader of lang (see LocalText).
func (n *Need) In(lang string) LocalText {
	return localize(lang, n.Lang, n.Title, n.Description, n.Translations)
}

// In is the offer's title and description for a reader of lang (see LocalText).
func (o *Offer) In(lang string) LocalText {
	return localize(lang, o.Lang, o.Title, o.Description, o.Translations)
}

// TranslationLangs lists the languages of the translations, sorted, so that pages and
// indexes go through them in a stable order.
func TranslationLangs(tr map[string]Translation) []string {
	out := make([]string, 0, len(tr))
	for l := range tr {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// normalizeTranslations trims the language and the texts: the language code is lower-cased
// and trimmed unless two codes would then collide (the validation reports the odd one).
func normalizeTranslations(lang string, tr map[string]Translation) (string, map[string]Translation) {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if len(tr) == 0 {
		return lang, nil
	}
	out := make(map[string]Translation, len(tr))
	for k, t := range tr {
		key := strings.ToLower(strings.TrimSpace(k))
		if _, dup := out[key]; dup {
			return lang, tr
		}
		out[key] = Translation{Title: CleanText(t.Title), Description: CleanText(t.Description)}
	}
	return lang, out
}

// validTranslations checks the language of a title and description and their translations:
// lang an ISO 639-1 code or empty; at most MaxTranslations translations, each into a known
// language other than lang, with a title and an optional description under the same limits as
// the original's.
func validTranslations(lang string, tr map[string]Translation, p *Problems) {
	if lang != "" && !ValidLanguage(lang) {
		p.Add("lang", ProblemUnknownLanguage, Args{"value": ArgSent(lang)})
	}
	if len(tr) > MaxTranslations {
		p.Add("translations", ProblemListTooLong, Args{"max": ArgInt(MaxTranslations), "got": ArgInt(len(tr))})
		return
	}
	for _, l := range TranslationLangs(tr) {
		f, t := "translations."+l, tr[l]
		switch {
		case !ValidLanguage(l):
			p.Add(f, ProblemUnknownLanguage, Args{"value": ArgSent(l)})
			continue
		case l == lang:
			p.Add(f, ProblemTranslationOwnLang, Args{"lang": ArgOf(KindLanguage, l)})
			continue
		}
		RequiredText(f+".title", t.Title, MaxTitleRunes, false, p)
		ValidText(f+".description", t.Description, MaxDescriptionRunes, true, p)
	}
}

// MergeTranslations applies a patch of translations the way JSON Merge Patch (RFC 7396) does: a
// language with a translation adds or replaces it, a language with null removes it, a language
// not named keeps its own; so that an author adds one translation without resending the others.
func MergeTranslations(tr map[string]Translation, patch map[string]*Translation) map[string]Translation {
	out := make(map[string]Translation, len(tr)+len(patch))
	for l, t := range tr {
		out[l] = t
	}
	for l, t := range patch {
		l = strings.ToLower(strings.TrimSpace(l))
		if t == nil {
			delete(out, l)
			continue
		}
		out[l] = *t
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
