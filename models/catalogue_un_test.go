package models

import (
	"sort"
	"strings"
	"testing"
	"unicode"
)

// allTexts walks every phrase of the catalogue: vocabularies, stages, regions, source kinds,
// the questionnaire, its scales and the proposed need's text.
func allTexts() []text {
	var out []text
	entry := func(e entryText) {
		out = append(out, e.Label)
		if e.Description.EN != "" {
			out = append(out, e.Description)
		}
	}
	for _, e := range themeText {
		entry(e)
	}
	for _, e := range capabilityText {
		entry(e)
	}
	for _, e := range modalityText {
		entry(e)
	}
	for _, e := range priorityText {
		entry(e)
	}
	for _, e := range visibilityText {
		entry(e)
	}
	for _, f := range frameworkText {
		entry(f.entryText)
		out = append(out, f.Stages...)
	}
	for _, t := range regionText {
		out = append(out, t)
	}
	for _, t := range sourceKindText {
		out = append(out, t)
	}
	out = append(out, yesPartialNoText...)
	for _, t := range scaleText {
		out = append(out, t)
	}
	for _, qn := range questionnaires {
		for _, a := range qn.Areas {
			out = append(out, a.title, a.intro)
			for _, q := range a.Questions {
				out = append(out, q.text)
			}
		}
	}
	return append(out, proposalText.intro, proposalText.answer)
}

// TestEveryPhraseIsInEveryUNLanguage: every phrase of the catalogue has its Arabic, Chinese and
// Russian version, written in that language's script (not a copy of the English), with the same
// fmt verbs; and the tables hold no phrase nothing uses.
func TestEveryPhraseIsInEveryUNLanguage(t *testing.T) {
	if strings.Join(SupportedLangs, ",") != "en,fr,es,ar,zh,ru" {
		t.Fatalf("SupportedLangs = %v: the six official languages of the United Nations", SupportedLangs)
	}
	used := map[string]bool{}
	scripts := map[string]*unicode.RangeTable{"ar": unicode.Arabic, "zh": unicode.Han, "ru": unicode.Cyrillic}
	for _, tx := range allTexts() {
		used[tx.EN] = true
		for lang, table := range unTexts {
			s, ok := table[tx.EN]
			if !ok || strings.TrimSpace(s) == "" {
				t.Errorf("%s lacks %q", lang, tx.EN)
				continue
			}
			if !strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(scripts[lang], r) }) {
				t.Errorf("%s %q is not written in its script: %q", lang, tx.EN, s)
			}
			if strings.Count(s, "%") != strings.Count(tx.EN, "%") {
				t.Errorf("%s %q: the fmt verbs differ: %q", lang, tx.EN, s)
			}
			if tx.in(lang) != s {
				t.Errorf("text.in(%s) does not use the table for %q", lang, tx.EN)
			}
		}
	}
	for lang, table := range unTexts {
		var orphans []string
		for en := range table {
			if !used[en] {
				orphans = append(orphans, en)
			}
		}
		sort.Strings(orphans)
		if len(orphans) > 0 {
			t.Errorf("%s holds phrases nothing uses: %q", lang, orphans)
		}
	}
	for _, l := range languageTable {
		for _, lang := range []string{"ar", "zh", "ru"} {
			if n := languageName(lang, l.code); n == "" || n == l.en {
				t.Errorf("language %s has no %s name (%q)", l.code, lang, n)
			}
		}
	}
	for _, c := range []struct{ lang, kind, code, want string }{
		{"ar", KindTheme, "cybercrime", "الجريمة السيبرانية"},
		{"zh", KindTheme, "cybercrime", "网络犯罪"},
		{"ru", KindTheme, "cybercrime", "Киберпреступность"},
		{"ar", KindCapability, "poc_readiness", "جاهزية جهات الاتصال"},
		{"zh", KindCapability, "cbm_implementation", "建立信任措施"},
		{"ru", KindCapability, "cbm_implementation", "Меры укрепления доверия"},
		{"ru", KindLanguage, "fr", "французский"},
		{"zh", KindLanguage, "wo", "沃洛夫语"},
		{"ar", KindRegion, "202", "أفريقيا جنوب الصحراء الكبرى"},
		{"zh", KindRegion, "419", "拉丁美洲和加勒比"},
		{"AR-EG", KindPriority, "high", "عالية"},
	} {
		if got := Label(c.lang, c.kind, c.code); got != c.want {
			t.Errorf("Label(%q, %q, %q) = %q, want %q", c.lang, c.kind, c.code, got, c.want)
		}
	}
	for in, want := range map[string]string{"ar": "ar", "zh-Hans-CN": "zh", "ru_RU": "ru", "zh-TW": "zh"} {
		if got := NormalizeLang(in); got != want {
			t.Errorf("NormalizeLang(%q) = %q, want %q", in, got, want)
		}
	}
}
