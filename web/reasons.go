package web

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/capmatch/capmatch/models"
)

// The matching engine explains every factor in an English sentence built from codes
// ("offer covers cert_setup", "delivers in fr but not wo (1 of 2 requested languages)"). The
// UI shows that sentence in the user's language, with codes turned into labels, by parsing
// it with the rules below. A sentence no rule knows is shown as the engine wrote it, so an
// explanation is never lost; a test runs the engine over the demo data and checks every
// sentence it writes is known.

// reasonRule turns one shape of engine sentence into a catalog message.
type reasonRule struct {
	re  *regexp.Regexp
	key string
	arg func(L *Localizer, m []string) []any
}

const (
	dateRe   = `(\d{4}-\d{2}-\d{2})`
	usdRe    = `\$([\d,]+)`
	windowRe = `(window \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}|window until \d{4}-\d{2}-\d{2}|open-ended window from \d{4}-\d{2}-\d{2}|open-ended window)`
	periodRe = `(\d+) months? from ` + dateRe + `( \(today\))?`
)

var reasonRules = []reasonRule{
	{regexp.MustCompile(`^offer covers (\w+)$`), "reason.cap_full", func(L *Localizer, m []string) []any {
		return []any{L.Label(models.KindCapability, m[1])}
	}},
	{regexp.MustCompile(`^offer covers the (\w+) theme but not (\w+)$`), "reason.cap_theme", func(L *Localizer, m []string) []any {
		return []any{L.Label(models.KindTheme, m[1]), L.Label(models.KindCapability, m[2])}
	}},
	{regexp.MustCompile(`^offer covers neither (\w+) nor the (\w+) theme$`), "reason.cap_none", func(L *Localizer, m []string) []any {
		return []any{L.Label(models.KindCapability, m[1]), L.Label(models.KindTheme, m[2])}
	}},
	{regexp.MustCompile(`^need states no language$`), "reason.lang_unstated", nil},
	{regexp.MustCompile(`^delivers in (.+) but not (.+) \((\d+) of (\d+) requested languages\)$`), "reason.lang_some", listArgs(models.KindLanguage)},
	{regexp.MustCompile(`^delivers in (.+) \((\d+) of (\d+) requested languages\)$`), "reason.lang_all", listArgs(models.KindLanguage)},
	{regexp.MustCompile(`^does not deliver in (.+) \((\d+) of (\d+) requested languages\)$`), "reason.lang_none", listArgs(models.KindLanguage)},
	{regexp.MustCompile(`^need states no modality$`), "reason.mod_unstated", nil},
	{regexp.MustCompile(`^provides (.+) but not (.+) \((\d+) of (\d+) requested modalities\)$`), "reason.mod_some", listArgs(models.KindModality)},
	{regexp.MustCompile(`^provides (.+) \((\d+) of (\d+) requested modalities\)$`), "reason.mod_all", listArgs(models.KindModality)},
	{regexp.MustCompile(`^does not provide (.+) \((\d+) of (\d+) requested modalities\)$`), "reason.mod_none", listArgs(models.KindModality)},
	{regexp.MustCompile(`^need states no budget$`), "reason.budget_unstated", nil},
	{regexp.MustCompile(`^remaining budget ` + usdRe + ` covers the ` + usdRe + ` requested$`), "reason.budget_full", moneyArgs},
	{regexp.MustCompile(`^no budget remains for the ` + usdRe + ` requested$`), "reason.budget_none", moneyArgs},
	{regexp.MustCompile(`^remaining budget ` + usdRe + ` covers (\d+)% of the ` + usdRe + ` requested$`), "reason.budget_part", moneyArgs},
	{regexp.MustCompile(`^need states no start date$`), "reason.timing_unstated", nil},
	{regexp.MustCompile(`^` + windowRe + ` covers all ` + periodRe + `$`), "reason.timing_full", timingArgs},
	{regexp.MustCompile(`^` + windowRe + ` covers none of the ` + periodRe + `$`), "reason.timing_none", timingArgs},
	{regexp.MustCompile(`^` + windowRe + ` covers (\d+)% of the ` + periodRe + `$`), "reason.timing_part", timingArgs},
	{regexp.MustCompile(`^need states no maturity baseline and target \(neutral\)$`), "reason.maturity_unstated", nil},
	{regexp.MustCompile(`^(\w+) stage (\d+) to (\d+): a gap of (\d+) calls for (\d+) kinds? of sustained support \([^)]*\); offer provides (?:none|\d+ \(([^)]*)\))(; it matures existing CSIRTs but the baseline is stage 0)?$`),
		"reason.maturity", maturityArgs},
	{regexp.MustCompile(`^offer is open to every country$`), "reason.focus_all", nil},
	{regexp.MustCompile(`^offer is open to (\d+) of (\d+) countries and territories$`), "reason.focus_some", func(L *Localizer, m []string) []any {
		return []any{m[1], m[2]}
	}},
	{regexp.MustCompile(`^(high|medium|low)-priority need$`), "reason.priority", func(L *Localizer, m []string) []any {
		return []any{L.Label(models.KindPriority, m[1])}
	}},
	{regexp.MustCompile(`^priority not stated; counted as medium$`), "reason.priority_unstated", nil},
	{regexp.MustCompile(`^no active project or agreed engagement already delivers (\w+) in ([A-Z]{2}), but (\d+) activit(?:y|ies) published to IATI by others may \(mapping confidence ([\d.]+)\)$`),
		"reason.dup_external", func(L *Localizer, m []string) []any {
			conf, _ := strconv.ParseFloat(m[4], 64)
			return []any{L.Label(models.KindCapability, m[1]), L.Country(m[2]), m[3], L.Percent(conf)}
		}},
	{regexp.MustCompile(`^no active project or agreed engagement already delivers (\w+) in ([A-Z]{2})$`), "reason.dup_none", dupArgs},
	{regexp.MustCompile(`^(\d+) active projects? or agreed engagements? already delivers? (\w+) in ([A-Z]{2})$`), "reason.dup_some", dupArgs},
	{regexp.MustCompile(`^at least one active project or agreed engagement already delivers (\w+) in ([A-Z]{2})$`), "reason.dup_hidden", dupArgs},
}

// localList turns an engine list of codes ("fr, en and wo", "a or b") into labels joined the
// language's way.
func localList(L *Localizer, kind, list, conj string) string {
	list = strings.ReplaceAll(list, " and ", ", ")
	list = strings.ReplaceAll(list, " or ", ", ")
	var labels []string
	for _, code := range strings.Split(list, ", ") {
		if code = strings.TrimSpace(code); code != "" {
			labels = append(labels, inSentence(L, kind, L.Label(kind, code)))
		}
	}
	switch len(labels) {
	case 0:
		return ""
	case 1:
		return labels[0]
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " " + L.T(conj) + " " + labels[len(labels)-1]
}

// inSentence writes a catalogue label the way it reads inside a sentence: kinds of help are
// common nouns everywhere, language names are too in French and Spanish ("en français").
func inSentence(L *Localizer, kind, label string) string {
	if kind == models.KindModality || (kind == models.KindLanguage && L.Lang != "en") {
		r, n := utf8.DecodeRuneInString(label)
		return string(unicode.ToLower(r)) + label[n:]
	}
	return label
}

// listArgs reads "got [but not missing] (k of n ...)" sentences: the arguments are the
// localized lists, then k and n.
func listArgs(kind string) func(L *Localizer, m []string) []any {
	return func(L *Localizer, m []string) []any {
		if len(m) == 5 { // got, missing, k, n
			return []any{localList(L, kind, m[1], "reason.and"), localList(L, kind, m[2], "reason.or"), m[3], m[4]}
		}
		conj := "reason.and"
		if strings.Contains(m[0], "not") {
			conj = "reason.or"
		}
		return []any{localList(L, kind, m[1], conj), m[2], m[3]}
	}
}

func usdArg(L *Localizer, s string) string {
	n, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
	if err != nil {
		return "$" + s
	}
	return L.Money(n)
}

// moneyArgs: dollar amounts become localized money, percentages stay numbers.
func moneyArgs(L *Localizer, m []string) []any {
	var out []any
	for i, s := range m[1:] {
		if strings.Contains(m[0], "%") && i == 1 {
			out = append(out, s)
			continue
		}
		out = append(out, usdArg(L, s))
	}
	return out
}

// window localizes the offer's availability window.
func window(L *Localizer, w string) string {
	dates := regexp.MustCompile(dateRe).FindAllString(w, -1)
	d := func(i int) string { return L.Date(models.Date(dates[i])) }
	switch {
	case strings.HasPrefix(w, "window until"):
		return L.T("reason.window_until", d(0))
	case strings.HasPrefix(w, "open-ended window from"):
		return L.T("reason.window_from", d(0))
	case strings.HasPrefix(w, "open-ended"):
		return L.T("reason.window_open")
	}
	return L.T("reason.window", d(0), d(1))
}

// timingArgs: the window, the share (for partial cover), and the period.
func timingArgs(L *Localizer, m []string) []any {
	// m: full, window, [percent,] months, date, today
	i := 2
	var pct string
	if len(m) == 6 {
		pct, i = m[2], 3
	}
	months, _ := strconv.Atoi(m[i])
	period := L.N("common.months", months) + " " + L.T("reason.from", L.Date(models.Date(m[i+1])))
	if m[i+2] != "" {
		period += " " + L.T("reason.today")
	}
	if pct != "" {
		return []any{window(L, m[1]), pct, period}
	}
	return []any{window(L, m[1]), period}
}

func maturityArgs(L *Localizer, m []string) []any {
	fw := models.MaturityFramework(m[1])
	cur, _ := strconv.Atoi(m[2])
	tgt, _ := strconv.Atoi(m[3])
	provided := L.T("reason.nothing")
	if strings.TrimSpace(m[6]) != "" {
		provided = localList(L, models.KindModality, m[6], "reason.and")
	}
	out := []any{L.Stage(fw, cur), L.Stage(fw, tgt), m[5], provided}
	if m[7] != "" {
		out[3] = provided + "; " + L.T("reason.maturity_stage0")
	}
	return out
}

func dupArgs(L *Localizer, m []string) []any {
	if len(m) == 3 {
		return []any{L.Label(models.KindCapability, m[1]), L.Country(m[2])}
	}
	return []any{m[1], L.Label(models.KindCapability, m[2]), L.Country(m[3])}
}

// Reason is the engine's explanation of a factor in the user's language; a sentence the
// rules do not know is returned unchanged.
func (l *Localizer) Reason(engine string) string {
	if key, args, ok := matchReason(l, engine); ok {
		return l.T(key, args...)
	}
	return engine
}

func matchReason(L *Localizer, s string) (string, []any, bool) {
	for _, r := range reasonRules {
		m := r.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		var args []any
		if r.arg != nil {
			args = r.arg(L, m)
		}
		return r.key, args, true
	}
	return "", nil, false
}
