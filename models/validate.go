package models

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits shared by the need and offer rules, exported so that forms and the OpenAPI
// document can state the same bounds the server enforces.
const (
	// MaxTitleRunes bounds a title: long enough for any real programme name, short enough
	// for lists and e-mail subjects.
	MaxTitleRunes = 200
	// MaxDescriptionRunes bounds a description: about eight pages of text.
	MaxDescriptionRunes = 20000
	// MaxBudgetUSD is an exclusive upper bound: ten billion dollars is far beyond any
	// capacity-building programme, so a larger figure is a typo or an attack.
	MaxBudgetUSD int64 = 10_000_000_000
	// MaxDurationMonths bounds a need's duration at ten years, the horizon of a strategy.
	MaxDurationMonths = 120
	// MaxEngagements bounds how many engagements one offer can take.
	MaxEngagements = 1000
)

// BudgetRange is the arguments of the range problem of an amount of US dollars: 1 up to
// MaxBudgetUSD, exclusive.
func BudgetRange() Args { return Args{"min": ArgUSD(1), "max": ArgUSD(MaxBudgetUSD - 1)} }

// CleanText trims leading and trailing white space, the normalisation every free-text field
// gets before it is stored, so that " Title " and "Title" are the same title.
func CleanText(s string) string { return strings.TrimSpace(s) }

// ValidText checks a free-text field and records every problem in p under field: the text
// must be valid UTF-8, contain no control characters (multiline text may contain line
// feeds, tabs and CR LF pairs) and, once cleaned with CleanText, be at most max runes long.
// It does not require the text to be non-empty; see RequiredText. It reports whether the
// text passed, so that other validators (organizations, users, projects) can reuse it.
func ValidText(field, s string, max int, multiline bool, p *Problems) bool {
	if !utf8.ValidString(s) {
		p.Add(field, ProblemInvalidUTF8, nil)
		return false
	}
	ok := true
	if r, bad := firstControl(s, multiline); bad {
		code := ProblemControlCharLine
		if multiline {
			code = ProblemControlChar
		}
		p.Add(field, code, Args{"char": ArgText(fmt.Sprintf("U+%04X", r))})
		ok = false
	}
	if n := utf8.RuneCountInString(CleanText(s)); n > max {
		p.Add(field, ProblemTooLong, Args{"max": ArgInt(max), "got": ArgInt(n)})
		ok = false
	}
	return ok
}

// RequiredText is ValidText for a field that must not be empty or only white space.
func RequiredText(field, s string, max int, multiline bool, p *Problems) bool {
	if CleanText(s) == "" {
		p.Add(field, ProblemRequired, nil)
		return false
	}
	return ValidText(field, s, max, multiline, p)
}

// firstControl finds the first control character not allowed in the text. Line feeds and
// tabs are allowed in multiline text, and so is a carriage return directly followed by a
// line feed, the line break browsers send from a text area.
func firstControl(s string, multiline bool) (rune, bool) {
	for i, r := range s {
		if !unicode.IsControl(r) {
			continue
		}
		if multiline && (r == '\n' || r == '\t' || (r == '\r' && i+1 < len(s) && s[i+1] == '\n')) {
			continue
		}
		return r, true
	}
	return 0, false
}

// clipValue cuts a client-supplied value short for a problem's arguments, so that a hostile
// value cannot blow up the response; invalid UTF-8 is replaced.
func clipValue(s string) string {
	const max = 40
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return s
}

// validList checks the shape of a code list: non-empty when required, not longer than the
// vocabulary it draws on (a longer list must repeat or invent codes), each entry known and
// none repeated. A too-long list is reported once instead of entry by entry, so that a
// hostile list of a million codes yields one problem.
// unknown is the problem code of an entry that is not in the vocabulary.
func validList(field string, items []string, required bool, max int, known func(string) bool, unknown string, p *Problems) {
	if len(items) == 0 {
		if required {
			p.Add(field, ProblemListRequired, nil)
		}
		return
	}
	if len(items) > max {
		p.Add(field, ProblemListTooLong, Args{"max": ArgInt(max), "got": ArgInt(len(items))})
		return
	}
	seen := make(map[string]int, len(items))
	for i, it := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		if j, dup := seen[it]; dup {
			p.Add(f, ProblemRepeated, Args{"first": ArgCode(fmt.Sprintf("%s[%d]", field, j)), "value": ArgSent(it)})
			continue
		}
		seen[it] = i
		if !known(it) {
			p.Add(f, unknown, Args{"value": ArgSent(it)})
		}
	}
}

// codes converts a list of string-typed codes to plain strings.
func codes[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

// knownCountry reports whether iso is an ISO 3166-1 alpha-2 code in its canonical upper case.
func knownCountry(iso string) bool {
	_, ok := LookupCountry(iso)
	return ok
}

// knownRegion reports whether code is a UN M49 region, sub-region or intermediate region.
func knownRegion(code string) bool {
	_, ok := LookupRegion(code)
	return ok
}

// validBudget checks a budget in whole US dollars: above zero and below MaxBudgetUSD.
func validBudget(field string, v int64, p *Problems) {
	if v <= 0 || v >= MaxBudgetUSD {
		p.Add(field, ProblemRange, BudgetRange())
	}
}

// validDate checks that a required date is a real calendar date written YYYY-MM-DD.
func validDate(field string, d Date, p *Problems) bool {
	if d == "" {
		p.Add(field, ProblemDateRequired, nil)
		return false
	}
	if !d.Valid() {
		p.Add(field, ProblemDateInvalid, Args{"got": ArgSent(string(d))})
		return false
	}
	return true
}

// validMaturity checks a maturity baseline and target against the framework's stage range.
func validMaturity(m Maturity, p *Problems) {
	if !m.Framework.Valid() {
		if m.Framework == "" {
			p.Add("maturity.framework", ProblemRequired, nil)
		} else {
			p.Add("maturity.framework", ProblemUnknownFramework, Args{"value": ArgSent(string(m.Framework))})
		}
		return
	}
	lo, hi := m.Framework.StageRange()
	okCur, okTgt := true, true
	stages := Args{"min": ArgInt(lo), "max": ArgInt(hi), "framework": ArgOf(KindFramework, m.Framework)}
	if m.Current < lo || m.Current > hi {
		p.Add("maturity.current", ProblemStageRange, stages)
		okCur = false
	}
	if m.Target < lo || m.Target > hi {
		p.Add("maturity.target", ProblemStageRange, stages)
		okTgt = false
	}
	if okCur && okTgt && m.Target < m.Current {
		p.Add("maturity.target", ProblemMaturityOrder, Args{"current": ArgInt(m.Current)})
	}
}

// Normalize applies the cleaning a client may expect before validation: trimmed title and
// description, upper-case country code, lower-case language codes, and the default
// visibility of the capability when none was chosen (DefaultVisibility). It never hides a
// problem Validate should report, such as a duplicate or unknown code.
func (n *Need) Normalize() {
	if n.Visibility == "" {
		n.Visibility = DefaultVisibility(n.Capability)
	}
	n.Title = CleanText(n.Title)
	n.Description = CleanText(n.Description)
	n.Lang, n.Translations = normalizeTranslations(n.Lang, n.Translations)
	n.Country = NormalizeISO(n.Country)
	for i, l := range n.Languages {
		n.Languages[i] = strings.ToLower(strings.TrimSpace(l))
	}
}

// Validate checks every rule a need must satisfy before it is stored and reports all the
// problems at once, with JSON field names, as an ErrInvalid *Error (HTTP 422). It does not
// change the need; call Normalize first to clean what a user may have typed.
func (n *Need) Validate() error {
	var p Problems
	RequiredText("title", n.Title, MaxTitleRunes, false, &p)
	ValidText("description", n.Description, MaxDescriptionRunes, true, &p)
	validTranslations(n.Lang, n.Translations, &p)

	switch {
	case n.Country == "":
		p.Add("country", ProblemRequired, nil)
	case !knownCountry(n.Country):
		p.Add("country", ProblemUnknownCountry, Args{"value": ArgSent(n.Country)})
	}

	themeOK := n.Theme.Valid()
	if !themeOK {
		if n.Theme == "" {
			p.Add("theme", ProblemRequired, nil)
		} else {
			p.Add("theme", ProblemUnknownTheme, Args{"value": ArgSent(string(n.Theme))})
		}
	}
	switch t, ok := CapabilityTheme(n.Capability); {
	case n.Capability == "":
		p.Add("capability", ProblemRequired, nil)
	case !ok:
		p.Add("capability", ProblemUnknownCapability, Args{"value": ArgSent(string(n.Capability))})
	case themeOK && t != n.Theme:
		p.Add("capability", ProblemCapabilityTheme, Args{"capability": ArgOf(KindCapability, n.Capability),
			"theme": ArgOf(KindTheme, t), "chosen": ArgOf(KindTheme, n.Theme)})
	}

	validList("modalities", codes(n.Modalities), true, len(Modalities),
		func(s string) bool { return Modality(s).Valid() }, ProblemUnknownModality, &p)
	validList("languages", n.Languages, true, len(languageTable), ValidLanguage, ProblemUnknownLanguage, &p)

	validBudget("budget_usd", n.BudgetUSD, &p)
	validDate("start_by", n.StartBy, &p)
	if n.DurationMonths < 1 || n.DurationMonths > MaxDurationMonths {
		p.Add("duration_months", ProblemRange, Args{"min": ArgInt(1), "max": ArgInt(MaxDurationMonths)})
	}
	if !n.Priority.Valid() {
		p.Add("priority", ProblemOneOf, OneOf(Priorities))
	}
	validMaturity(n.Maturity, &p)
	if !n.Visibility.Valid() {
		p.Add("visibility", ProblemOneOf, OneOf(Visibilities))
	}
	return p.Err()
}

// Normalize applies the cleaning a client may expect before validation: trimmed title and
// description, upper-case country codes, lower-case language codes, trimmed region codes.
// It never hides a problem Validate should report, such as a duplicate or unknown code.
func (o *Offer) Normalize() {
	o.Title = CleanText(o.Title)
	o.Description = CleanText(o.Description)
	o.Lang, o.Translations = normalizeTranslations(o.Lang, o.Translations)
	for i, l := range o.Languages {
		o.Languages[i] = strings.ToLower(strings.TrimSpace(l))
	}
	for i, c := range o.EligibleCountries {
		o.EligibleCountries[i] = NormalizeISO(c)
	}
	for i, r := range o.EligibleRegions {
		o.EligibleRegions[i] = strings.TrimSpace(r)
	}
	o.ContactName = CleanText(o.ContactName)
	o.ContactEmail = strings.TrimSpace(o.ContactEmail)
}

// Validate checks every rule an offer must satisfy before it is stored and reports all the
// problems at once, with JSON field names, as an ErrInvalid *Error (HTTP 422). Empty
// eligibility lists are valid and mean every country. It does not change the offer; call
// Normalize first to clean what a user may have typed.
func (o *Offer) Validate() error {
	var p Problems
	RequiredText("title", o.Title, MaxTitleRunes, false, &p)
	ValidText("description", o.Description, MaxDescriptionRunes, true, &p)
	validTranslations(o.Lang, o.Translations, &p)

	validList("themes", codes(o.Themes), true, len(Themes),
		func(s string) bool { return Theme(s).Valid() }, ProblemUnknownTheme, &p)
	validList("capabilities", codes(o.Capabilities), false, len(Capabilities),
		func(s string) bool { return Capability(s).Valid() }, ProblemUnknownCapability, &p)
	if len(o.Capabilities) <= len(Capabilities) {
		themes := make(map[Theme]bool, len(o.Themes))
		for _, t := range o.Themes {
			themes[t] = true
		}
		seen := make(map[Capability]bool, len(o.Capabilities))
		for i, c := range o.Capabilities {
			if seen[c] {
				continue // already reported as a repeat
			}
			seen[c] = true
			if t, ok := CapabilityTheme(c); ok && !themes[t] {
				p.Add(fmt.Sprintf("capabilities[%d]", i), ProblemCapabilityNoTheme, Args{"capability": ArgOf(KindCapability, c), "theme": ArgOf(KindTheme, t)})
			}
		}
	}

	validList("modalities", codes(o.Modalities), true, len(Modalities),
		func(s string) bool { return Modality(s).Valid() }, ProblemUnknownModality, &p)
	validList("languages", o.Languages, true, len(languageTable), ValidLanguage, ProblemUnknownLanguage, &p)
	validList("eligible_countries", o.EligibleCountries, false, len(Countries()), knownCountry, ProblemUnknownCountry, &p)
	validList("eligible_regions", o.EligibleRegions, false, len(regionByCode), knownRegion, ProblemUnknownRegion, &p)

	validBudget("budget_usd", o.BudgetUSD, &p)
	if o.MaxEngagements < 1 || o.MaxEngagements > MaxEngagements {
		p.Add("max_engagements", ProblemRange, Args{"min": ArgInt(1), "max": ArgInt(MaxEngagements)})
	}
	fromOK := validDate("available_from", o.AvailableFrom, &p)
	untilOK := validDate("available_until", o.AvailableUntil, &p)
	if fromOK && untilOK {
		from, _ := o.AvailableFrom.Time()
		until, _ := o.AvailableUntil.Time()
		if until.Before(from) {
			p.Add("available_until", ProblemDateOrder, Args{"start": ArgDate(o.AvailableFrom)})
		}
	}
	ValidText("contact_name", o.ContactName, MaxTitleRunes, false, &p)
	ValidEmail("contact_email", o.ContactEmail, &p)
	if o.ContactName != "" && o.ContactEmail == "" {
		p.Add("contact_email", ProblemContactEmail, nil)
	}
	return p.Err()
}

// MaxEmailLength is the longest address SMTP can carry (RFC 5321: 254 octets in a path).
const MaxEmailLength = 254

// ValidEmail checks an optional e-mail address: empty, or one plain address such as
// name@example.org (no display name, no list, no comment), at most MaxEmailLength bytes.
func ValidEmail(field, s string, p *Problems) bool {
	if s == "" {
		return true
	}
	if !IsEmailAddress(s) {
		p.Add(field, ProblemEmail, nil)
		return false
	}
	return true
}
