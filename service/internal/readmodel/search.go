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
// across two parts. The catalogue's names are not copied into each object's text (they were
// about two thirds of it: some 180 MB of live heap at 100,000 needs + 100,000 offers, issue
// 16): a search looks them up per code (vocabHits).

// needSearchText is the folded text a search of needs looks in.
func needSearchText(n *models.Need) string {
	var b strings.Builder
	writeText(&b, n.Title, n.Description, n.Translations)
	return trimmed(&b)
}

// offerSearchText is the folded text a search of offers looks in.
func offerSearchText(o *models.Offer) string {
	var b strings.Builder
	writeText(&b, o.Title, o.Description, o.Translations)
	return trimmed(&b)
}

// trimmed is what b holds, without the spare capacity a Builder keeps as it grows (up to as
// much again as it holds): the model keeps a search text per need and offer, and at 100,000
// + 100,000 the spare capacity was about 120 MB of live heap (BENCHMARKS.md, issue 16).
func trimmed(b *strings.Builder) string {
	if b.Cap()-b.Len() > b.Len()/16 {
		return strings.Clone(b.String())
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

// vocabHits answers, for one folded query, whether the catalogue's names of a theme or a
// capability contain it: what the objects' search texts leave out. It looks at every code of
// the catalogue once per search (a code outside it has no names); when none matches, which is
// the usual case, a search costs what it cost with the names in the texts.
type vocabHits struct {
	q            string
	any          bool
	themes       map[models.Theme]bool
	capabilities map[models.Capability]bool
}

// catalogueNames are the folded names of every theme and capability of the catalogue, in the
// order of models.Themes and models.Capabilities, worked out once.
var catalogueNames = sync.OnceValues(func() (themes, capabilities []string) {
	for _, t := range models.Themes {
		themes = append(themes, vocabulary(models.KindTheme, string(t)))
	}
	for _, c := range models.Capabilities {
		capabilities = append(capabilities, vocabulary(models.KindCapability, string(c)))
	}
	return themes, capabilities
})

func newVocabHits(q string) *vocabHits {
	h := &vocabHits{q: q}
	if q == "" {
		return h
	}
	themes, capabilities := catalogueNames()
	for i, t := range models.Themes {
		if strings.Contains(themes[i], q) {
			if h.themes == nil {
				h.themes = map[models.Theme]bool{}
			}
			h.themes[t], h.any = true, true
		}
	}
	for i, c := range models.Capabilities {
		if strings.Contains(capabilities[i], q) {
			if h.capabilities == nil {
				h.capabilities = map[models.Capability]bool{}
			}
			h.capabilities[c], h.any = true, true
		}
	}
	return h
}

func (h *vocabHits) theme(t models.Theme) bool { return h.themes[t] }

func (h *vocabHits) capability(c models.Capability) bool { return h.capabilities[c] }

// need reports whether a need whose search text is folded matches the query.
func (h *vocabHits) need(folded string, n *models.Need) bool {
	return strings.Contains(folded, h.q) || (h.any && (h.theme(n.Theme) || h.capability(n.Capability)))
}

// offer reports whether an offer whose search text is folded matches the query.
func (h *vocabHits) offer(folded string, o *models.Offer) bool {
	if strings.Contains(folded, h.q) {
		return true
	}
	if !h.any {
		return false
	}
	for _, t := range o.Themes {
		if h.theme(t) {
			return true
		}
	}
	for _, c := range o.Capabilities {
		if h.capability(c) {
			return true
		}
	}
	return false
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
