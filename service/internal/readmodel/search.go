package readmodel

import (
	"strings"
	"sync"

	"github.com/capmatch/capmatch/models"
)

// A search looks in more than the words an author typed: in the translations of the title and
// description the author added, and in the names the catalogue gives the need's theme and
// capability (an offer's themes and capabilities) in each of the six official languages of the
// United Nations. So "ciberdelincuencia", "cybercriminalité", "киберпреступность", "网络犯罪"
// and "الجريمة السيبرانية" all find the cybercrime needs, whichever language they were written
// in. Each part is folded (Fold) and kept on a line of its own, so that a query never matches
// across two parts.

// needSearchText is the folded text a search of needs looks in.
func needSearchText(n *models.Need) string {
	var b strings.Builder
	writeText(&b, n.Title, n.Description, n.Translations)
	b.WriteString(vocabulary(models.KindTheme, string(n.Theme)))
	b.WriteString(vocabulary(models.KindCapability, string(n.Capability)))
	return b.String()
}

// offerSearchText is the folded text a search of offers looks in.
func offerSearchText(o *models.Offer) string {
	var b strings.Builder
	writeText(&b, o.Title, o.Description, o.Translations)
	for _, t := range o.Themes {
		b.WriteString(vocabulary(models.KindTheme, string(t)))
	}
	for _, c := range o.Capabilities {
		b.WriteString(vocabulary(models.KindCapability, string(c)))
	}
	return b.String()
}

// writeText writes the folded title, description and translations, a line each.
func writeText(b *strings.Builder, title, desc string, tr map[string]models.Translation) {
	for _, s := range []string{title, desc} {
		b.WriteString(Fold(s))
		b.WriteByte('\n')
	}
	for _, l := range models.TranslationLangs(tr) {
		b.WriteString(Fold(tr[l].Title))
		b.WriteByte('\n')
		b.WriteString(Fold(tr[l].Description))
		b.WriteByte('\n')
	}
}

// vocabularyCache keeps the folded names of a catalogue code in every language: the catalogue
// never changes while the process runs, and every put of a need or offer asks for them.
var vocabularyCache sync.Map // kind + "/" + code → string

// vocabulary is the folded names of a catalogue code in the six UN languages, a line each
// ("" for an empty or unknown code, whose label would be the code itself).
func vocabulary(kind, code string) string {
	if code == "" {
		return ""
	}
	key := kind + "/" + code
	if v, ok := vocabularyCache.Load(key); ok {
		return v.(string)
	}
	var b strings.Builder
	seen := map[string]bool{}
	for _, lang := range models.SupportedLangs {
		label := Fold(models.Label(lang, kind, code))
		if label == "" || label == Fold(code) || seen[label] {
			continue
		}
		seen[label] = true
		b.WriteString(label)
		b.WriteByte('\n')
	}
	v, _ := vocabularyCache.LoadOrStore(key, b.String())
	return v.(string)
}
