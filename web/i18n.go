package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
	"golang.org/x/text/collate"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// catalogs holds the UI's messages per language: key → text with {1}, {2}, ... placeholders.
// The files live in i18n/<lang>.json so that translators edit plain JSON.
type catalogs map[string]map[string]string

// loadCatalogs reads i18n/en.json, fr.json and es.json and checks that they define the same
// keys, none empty, so that no page ever shows a key instead of a phrase. The one exception
// is the plural forms a language has and others lack (key.zero, .two, .few, .many): a
// catalog may define them alone, as long as every catalog defines the key's .other form.
func loadCatalogs(fsys fs.FS) (catalogs, error) {
	out := catalogs{}
	for _, lang := range models.SupportedLangs {
		b, err := fs.ReadFile(fsys, path.Join("i18n", lang+".json"))
		if err != nil {
			return nil, fmt.Errorf("read %s catalog: %w", lang, err)
		}
		m, err := decodeCatalog(b)
		if err != nil {
			return nil, fmt.Errorf("parse %s catalog: %w", lang, err)
		}
		for k, n := range m.seen {
			if n > 1 {
				return nil, fmt.Errorf("%s catalog defines %q twice", lang, k)
			}
		}
		out[lang] = m.msgs
	}
	for _, lang := range models.SupportedLangs {
		for k, v := range out[lang] {
			if strings.TrimSpace(v) == "" {
				return nil, fmt.Errorf("%s catalog: %q is empty", lang, k)
			}
			check := k
			if base, ok := languageOnlyPlural(k); ok {
				check = base + ".other"
			}
			for _, other := range models.SupportedLangs {
				if _, ok := out[other][check]; !ok {
					return nil, fmt.Errorf("%s catalog has %q, %s catalog lacks %q", lang, k, other, check)
				}
			}
		}
	}
	return out, nil
}

// decodedCatalog is a catalog file's messages and how many times each key appears in it.
type decodedCatalog struct {
	msgs map[string]string
	seen map[string]int
}

// decodeCatalog reads one catalog file, a JSON object of strings, counting each key: JSON
// decoding into a map keeps the last of two lines with the same key without a word, so a
// merge that kept both sides' versions of a message would show the stale one on the pages.
func decodeCatalog(b []byte) (decodedCatalog, error) {
	c := decodedCatalog{msgs: map[string]string{}, seen: map[string]int{}}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return decodedCatalog{}, fmt.Errorf("not a JSON object of messages (%v)", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return decodedCatalog{}, err
		}
		k, _ := tok.(string)
		var v string
		if err := dec.Decode(&v); err != nil {
			return decodedCatalog{}, fmt.Errorf("%q: %w", k, err)
		}
		c.msgs[k] = v
		c.seen[k]++
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return decodedCatalog{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return decodedCatalog{}, fmt.Errorf("text after the object")
	}
	return c, nil
}

// languageOnlyPlural reports whether k is a plural form that only some languages have
// (key.zero, .two, .few, .many) and returns the key it is a form of.
func languageOnlyPlural(k string) (string, bool) {
	i := strings.LastIndexByte(k, '.')
	if i < 0 {
		return "", false
	}
	switch k[i+1:] {
	case "zero", "two", "few", "many":
		return k[:i], true
	}
	return "", false
}

// negotiateLang picks the UI language: the remembered choice (cookie) if it is supported,
// else the first supported language of Accept-Language in order of preference, else English.
func negotiateLang(cookie, acceptLanguage string) string {
	if c := strings.ToLower(strings.TrimSpace(cookie)); c != "" {
		for _, l := range models.SupportedLangs {
			if c == l {
				return l
			}
		}
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err == nil {
		for _, t := range tags {
			base, _ := t.Base()
			for _, l := range models.SupportedLangs {
				if base.String() == l {
					return l
				}
			}
		}
	}
	return "en"
}

// Localizer renders messages, labels, dates, numbers and money in one language. Every page
// gets one as .L; its methods are what templates call.
type Localizer struct {
	Lang    string
	msgs    map[string]string
	fall    map[string]string
	printer *message.Printer
	tag     language.Tag
}

func (c catalogs) localizer(lang string) *Localizer {
	lang = models.NormalizeLang(lang)
	tag := language.Make(lang)
	return &Localizer{Lang: lang, msgs: c[lang], fall: c["en"], printer: message.NewPrinter(tag), tag: tag}
}

// T returns the message for key with {1}, {2}, ... replaced by args. A missing key shows
// itself (a test keeps every key used by templates in every catalog).
func (l *Localizer) T(key string, args ...any) string {
	s, ok := l.msgs[key]
	if !ok {
		if s, ok = l.fall[key]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '{' {
			if j := strings.IndexByte(s[i:], '}'); j > 1 {
				if n, err := strconv.Atoi(s[i+1 : i+j]); err == nil && n >= 1 && n <= len(args) {
					b.WriteString(l.str(args[n-1]))
					i += j
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// N picks the plural form of a count message by the language's CLDR plural rule (key.one,
// key.other, and key.zero, .two, .few or .many where a language has them; a form a catalog
// does not define falls back to key.other) and puts the formatted count in {1}. A message
// may leave {1} out when the page shows the figure itself ("<strong>3</strong> open needs").
func (l *Localizer) N(key string, n int, args ...any) string {
	k := key + "." + pluralForm(l.tag, n)
	if _, ok := l.msgs[k]; !ok {
		k = key + ".other"
	}
	return l.T(k, append([]any{l.Num(n)}, args...)...)
}

// pluralForms are the CLDR plural categories, the suffixes a count message's keys may carry.
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// pluralForm is the CLDR plural category of the whole number n in the language (French: 0
// and 1 are "one"; English and Spanish: only 1), from golang.org/x/text's CLDR tables.
func pluralForm(tag language.Tag, n int) string {
	if n < 0 {
		n = -n
	}
	switch plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0) {
	case plural.Zero:
		return "zero"
	case plural.One:
		return "one"
	case plural.Two:
		return "two"
	case plural.Few:
		return "few"
	case plural.Many:
		return "many"
	}
	return "other"
}

func (l *Localizer) str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return l.Num(x)
	case int64:
		return l.Num(x)
	default:
		return fmt.Sprint(v)
	}
}

// Num formats an integer with the language's digit grouping (1,234 / 1 234 / 1234); an
// optional one (*int, a result's baseline) that is not set is "".
func (l *Localizer) Num(n any) string {
	switch x := n.(type) {
	case int:
		return l.printer.Sprint(number.Decimal(x))
	case int64:
		return l.printer.Sprint(number.Decimal(x))
	case *int:
		if x == nil {
			return ""
		}
		return l.Num(*x)
	}
	return fmt.Sprint(n)
}

// Points writes a share in [0,1] as points out of 100 with at most one decimal, in the
// language's notation (87.5 / 87,5), for match scores and factor contributions.
func (l *Localizer) Points(f float64) string {
	return l.printer.Sprint(number.Decimal(f*100, number.MaxFractionDigits(1)))
}

// Percent writes a share in [0,1] as a percentage with at most one decimal (a factor's fit
// or weight).
func (l *Localizer) Percent(f float64) string {
	return l.T("fmt.percent", l.Points(f))
}

// Money formats whole US dollars the way the language writes them: US$400,000,
// 400 000 $ US, 400.000 US$.
func (l *Localizer) Money(usd int64) string {
	return l.T("fmt.money", l.Num(usd))
}

// Date formats a calendar date (a time.Time or a models.Date) as "2 Mar 2027", "2 mars 2027"
// or "2 mar 2027". An invalid date shows as it is.
func (l *Localizer) Date(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		if x.IsZero() {
			return ""
		}
		t = x.UTC()
	case models.Date:
		var ok bool
		if t, ok = x.Time(); !ok {
			return string(x)
		}
	case *time.Time:
		if x == nil {
			return ""
		}
		return l.Date(*x)
	case *models.Date:
		if x == nil {
			return ""
		}
		return l.Date(*x)
	case *string:
		if x == nil {
			return ""
		}
		p, err := time.Parse(time.RFC3339, *x)
		if err != nil {
			return *x
		}
		t = p.UTC()
	default:
		return fmt.Sprint(v)
	}
	return l.T("fmt.date", strconv.Itoa(t.Day()), l.T("month."+strconv.Itoa(int(t.Month()))), strconv.Itoa(t.Year()))
}

// Duration writes a time span given in seconds the short way ("3 h 20 min"), for response
// times; "" for nil.
func (l *Localizer) Duration(seconds *int64) string {
	if seconds == nil {
		return ""
	}
	s := max(*seconds, 0)
	switch {
	case s < 60:
		return l.T("dur.s", l.Num(s))
	case s < 3600:
		return l.T("dur.min", l.Num(s/60))
	case s < 86400:
		out := l.T("dur.h", l.Num(s/3600))
		if m := s % 3600 / 60; m > 0 {
			out += " " + l.T("dur.min", l.Num(m))
		}
		return out
	}
	out := l.T("dur.d", l.Num(s/86400))
	if h := s % 86400 / 3600; h > 0 {
		out += " " + l.T("dur.h", l.Num(h))
	}
	return out
}

// Label is the display name of a catalogue code (theme, capability, modality, priority,
// visibility, maturity_framework, language, region) in this language.
func (l *Localizer) Label(kind string, code any) string {
	return models.Label(l.Lang, kind, fmt.Sprint(code))
}

// Describe is the catalogue's one-line explanation of a code in this language.
func (l *Localizer) Describe(kind string, code any) string {
	return models.Describe(l.Lang, kind, fmt.Sprint(code))
}

// Stage names a stage of a maturity framework ("Formative", "Formatif").
func (l *Localizer) Stage(framework any, stage int) string {
	return models.StageLabel(l.Lang, models.MaturityFramework(fmt.Sprint(framework)), stage)
}

// Country is a country's name in this language (CLDR names via x/text), falling back to the
// ISO data set's English name.
func (l *Localizer) Country(iso string) string {
	if r, err := language.ParseRegion(iso); err == nil {
		if n := display.Regions(l.tag).Name(r); n != "" && n != "Unknown Region" {
			return n
		}
	}
	if c, ok := models.LookupCountry(iso); ok {
		return c.Name
	}
	return iso
}

// Status is the translated name of a need or offer status.
func (l *Localizer) Status(st any) string { return l.T("status." + fmt.Sprint(st)) }

// sortByName sorts items by a localized name with the language's collation (É after E, not
// after Z).
func sortByName[T any](l *Localizer, items []T, name func(T) string) {
	col := collate.New(l.tag, collate.IgnoreCase)
	sort.SliceStable(items, func(i, j int) bool { return col.CompareString(name(items[i]), name(items[j])) < 0 })
}
