package service

import (
	"fmt"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/models"
)

// TestCheckMailsAndProposalsInTheSixLanguages: the communication-check e-mail and the proposed
// PoC-readiness need exist in each UN language, fill every placeholder, and a contact gets the
// first of their languages capmatch writes in.
func TestCheckMailsAndProposalsInTheSixLanguages(t *testing.T) {
	for _, lang := range models.SupportedLangs {
		m, ok := checkMail[lang]
		if !ok {
			t.Fatalf("no e-mail in %s", lang)
		}
		body := fmt.Sprintf(m.body, "NAME", m.technical, "COUNTRY", "https://LINK", "DATE")
		for _, want := range []string{"NAME", "COUNTRY", "https://LINK", "DATE", m.technical} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the e-mail lacks %s", lang, want)
			}
		}
		if strings.Contains(body, "%!") || !strings.Contains(fmt.Sprintf(m.subject, "COUNTRY"), "COUNTRY") {
			t.Errorf("%s: a placeholder is wrong:\n%s", lang, body)
		}
		title, desc := proposalText(lang, "SN")
		if !strings.Contains(desc, "Senegal") || title == "" || (lang != "en" && title == proposalTexts["en"][0]) {
			t.Errorf("%s: proposal %q %q", lang, title, desc)
		}
	}
	for langs, want := range map[string]string{"ar,fr": "ar", "wo,ru": "ru", "zh": "zh", "wo": "en", "pt,es": "es"} {
		if got := mailLang(strings.Split(langs, ",")); got != want {
			t.Errorf("mailLang(%s) = %s, want %s", langs, got, want)
		}
	}
}
