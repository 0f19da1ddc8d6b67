package i18n

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/capmatch/capmatch/models"
	"golang.org/x/text/collate"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Localizer writes messages, coded messages, labels, dates, numbers and money in one language.
// Get one from Catalog.For; it is safe for concurrent use. Web templates call its methods as
// .L.T, .L.Date, ...
type Localizer struct {
	Lang    string
	msgs    map[string]string
	fall    map[string]string
	printer *message.Printer
	tag     language.Tag
}

// lookup finds a message, in this language or else in English.
func (l *Localizer) lookup(key string) (string, bool) {
	if s, ok := l.msgs[key]; ok {
		return s, true
	}
	s, ok := l.fall[key]
	return s, ok
}

// Has reports whether the catalogs define key (in the language or its English fallback), for
// pages that show a message only where one exists.
func (l *Localizer) Has(key string) bool {
	_, ok := l.lookup(key)
	return ok
}

// SourceKind names a kind of country source in this language.
func (l *Localizer) SourceKind(k any) string {
	return models.SourceKindLabel(l.Lang, models.SourceKind(fmt.Sprint(k)))
}

// T returns the message for key with {1}, {2}, ... replaced by args (the web's messages). A
// missing key shows itself (tests keep every key used in every catalog).
func (l *Localizer) T(key string, args ...any) string {
	s, ok := l.lookup(key)
	if !ok {
		return key
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
	return l.T(l.pluralKey(key, n), append([]any{l.Num(n)}, args...)...)
}

// pluralKey is the key of the plural form of key for n.
func (l *Localizer) pluralKey(key string, n int) string {
	k := key + "." + PluralForm(l.tag, n)
	if _, ok := l.msgs[k]; !ok {
		k = key + ".other"
	}
	return k
}

// pluralForms are the CLDR plural categories, the suffixes a count message's keys may carry.
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// PluralForm is the CLDR plural category of the whole number n in the language (French: 0
// and 1 are "one"; English and Spanish: only 1), from golang.org/x/text's CLDR tables.
func PluralForm(tag language.Tag, n int) string {
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

// PluralForms lists the CLDR plural categories a count message's keys may end with.
func PluralForms() []string { return append([]string(nil), pluralForms...) }

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

// Decimal formats a number with at most four decimals in the language's notation (0.85 /
// 0,85).
func (l *Localizer) Decimal(f float64) string {
	return l.printer.Sprint(number.Decimal(f, number.MaxFractionDigits(4)))
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

// Date formats a calendar date (a time.Time or a models.Date) as "2 Mar 2027", "2 mars 2027",
// "2 mar 2027", "٢ مارس ٢٠٢٧", "2027年3月2日" or "2 мар. 2027 г.", with the language's digits.
// An invalid date shows as it is.
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
	return l.T("fmt.date", l.digits(t.Day()), l.T("month."+strconv.Itoa(int(t.Month()))), l.digits(t.Year()))
}

// digits writes a whole number in the language's digits without grouping (a day, a year:
// ٢٠٢٧ in Arabic).
func (l *Localizer) digits(n int) string {
	return l.printer.Sprint(number.Decimal(n, number.NoSeparator()))
}

// Duration writes a number of seconds (a Point of Contact's time to acknowledge) in its two
// largest units, "3 h 20 min", with the messages dur.d, dur.h, dur.min and dur.s of the
// catalog; nil is "".
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

// Dir is the writing direction of the language, "rtl" (Arabic) or "ltr", for the dir attribute
// of a page, so that the layout mirrors.
func (l *Localizer) Dir() string {
	if script, _ := l.tag.Script(); rtlScripts[script.String()] {
		return "rtl"
	}
	return "ltr"
}

// rtlScripts are the ISO 15924 scripts written right to left.
var rtlScripts = map[string]bool{"Arab": true, "Hebr": true, "Thaa": true, "Syrc": true, "Nkoo": true, "Adlm": true, "Rohg": true, "Mand": true, "Samr": true}

// Status is the translated name of a need or offer status (the web's "status.<code>"
// messages).
func (l *Localizer) Status(st any) string { return l.T("status." + fmt.Sprint(st)) }

// SortByName sorts items by a localized name with the language's collation (É after E, not
// after Z).
func SortByName[T any](l *Localizer, items []T, name func(T) string) {
	col := collate.New(l.tag, collate.IgnoreCase)
	sort.SliceStable(items, func(i, j int) bool { return col.CompareString(name(items[i]), name(items[j])) < 0 })
}

// inSentence writes a catalogue label the way it reads inside a sentence: kinds of help are
// common nouns in every language, and so are language names except in English ("en
// français", "в русском"); scripts without case are unchanged.
func (l *Localizer) inSentence(kind models.ArgKind, label string) string {
	if kind == models.KindModality || (kind == models.KindLanguage && l.Lang != "en") {
		r, n := utf8.DecodeRuneInString(label)
		return string(unicode.ToLower(r)) + label[n:]
	}
	return label
}

// LanguageInSentence is the name of a language as it reads inside a sentence of this language
// ("Titre en arabe", "Title in Arabic"), for messages that name one.
func (l *Localizer) LanguageInSentence(code string) string {
	return l.inSentence(models.KindLanguage, l.Label(models.KindLanguage, code))
}

// floorPercent keeps a share from reading as more than it is.
func floorPercent(f float64) float64 { return math.Floor(f*1000+1e-9) / 1000 }
