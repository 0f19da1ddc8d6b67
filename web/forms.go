package web

import (
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// form is a form's values and its errors, each next to its field, in the user's language.
type form struct {
	Values  url.Values
	Errors  map[string]string
	Summary []fieldMsg
	labels  map[string]string
}

// fieldMsg is one line of the error summary, linking to the field.
type fieldMsg struct {
	ID, Label, Message string
}

// postedForm reads an application/x-www-form-urlencoded (or multipart) body.
func postedForm(c *fiber.Ctx) *form {
	f := &form{Values: url.Values{}, Errors: map[string]string{}}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		f.Values.Add(string(k), string(v))
	})
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		for k, vs := range mf.Value {
			for _, v := range vs {
				f.Values.Add(k, v)
			}
		}
	}
	return f
}

func newForm() *form { return &form{Values: url.Values{}, Errors: map[string]string{}} }

// Get is a field's (first) value.
func (f *form) Get(name string) string { return f.Values.Get(name) }

// All is every value of a multi-valued field (checkboxes).
func (f *form) All(name string) []string { return f.Values[name] }

// Has reports whether a checkbox or radio with this value is selected.
func (f *form) Has(name, value string) bool {
	for _, v := range f.Values[name] {
		if v == value {
			return true
		}
	}
	return false
}

// Err is the error message of a field, "" when it is fine.
func (f *form) Err(name string) string { return f.Errors[name] }

// ID is the element id of a field, for labels, error links and aria-describedby.
func (f *form) ID(name string) string {
	return "f-" + strings.NewReplacer(".", "-", "[", "-", "]", "", "_", "-").Replace(name)
}

// Add records an error on a field (the first one a field gets is kept).
func (f *form) Add(field, msg string) {
	if _, dup := f.Errors[field]; dup {
		return
	}
	f.Errors[field] = msg
	label := f.labels[field]
	if label == "" {
		label = field
	}
	f.Summary = append(f.Summary, fieldMsg{ID: f.ID(field), Label: label, Message: msg})
}

// OK reports whether the form has no errors.
func (f *form) OK() bool { return len(f.Errors) == 0 }

// intField parses a whole number typed by a person (spaces, commas, dots and non-breaking
// spaces as digit grouping are accepted: "400 000", "400,000", "400.000").
func (f *form) intField(L *Localizer, name string, required bool) int64 {
	s := strings.TrimSpace(f.Get(name))
	if s == "" {
		if required {
			f.Add(name, L.T("err.required"))
		}
		return 0
	}
	clean := strings.NewReplacer(" ", "", ",", "", ".", "", "\u00a0", "", "\u202f", "", "'", "").Replace(s)
	n, err := strconv.ParseInt(clean, 10, 64)
	if err != nil {
		f.Add(name, L.T("err.number"))
		return 0
	}
	return n
}

// optionalInt reads a whole number that may be left empty (nil).
func (f *form) optionalInt(L *Localizer, name string) *int {
	if strings.TrimSpace(f.Get(name)) == "" {
		return nil
	}
	n := f.intField(L, name, false)
	if f.Err(name) != "" {
		return nil
	}
	i := int(n)
	return &i
}

// dateField checks a date typed in a date input (YYYY-MM-DD).
func (f *form) dateField(L *Localizer, name string, required bool) models.Date {
	s := strings.TrimSpace(f.Get(name))
	if s == "" {
		if required {
			f.Add(name, L.T("err.date_required"))
		}
		return ""
	}
	d := models.Date(s)
	if !d.Valid() {
		f.Add(name, L.T("err.date"))
	}
	return d
}

// fieldOf maps a field name of a domain error ("modalities[2]", "maturity.current") to the
// form field that shows it.
func fieldOf(name string) string {
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	return name
}

// addDomainErrors puts a validation error's field errors next to their fields, translated.
// It reports false when err is not a validation error.
func (f *form) addDomainErrors(L *Localizer, err error) bool {
	return f.addDomainErrorsAs(L, err, fieldOf)
}

// addDomainErrorsAs is addDomainErrors for a form whose fields are named otherwise than the
// domain's: field maps a domain field name to the form's ("" puts it in the summary only).
func (f *form) addDomainErrorsAs(L *Localizer, err error, field func(string) string) bool {
	var de *models.Error
	if !errors.As(err, &de) || !errors.Is(err, models.ErrInvalid) {
		return false
	}
	for _, fe := range de.Fields {
		f.Add(field(fe.Field), translateFieldError(L, fe.Message))
	}
	if len(de.Fields) == 0 {
		f.Add("", L.T("err.invalid"))
	}
	return true
}

// fieldErrorRules translate the domain's English validation messages (models/validate.go,
// service) into catalog messages. Captured groups become the message's arguments; a
// theme code is shown by its label. A test feeds the validators bad input and checks every
// message they produce is matched here.
var fieldErrorRules = []struct {
	re  *regexp.Regexp
	key string
	arg func(L *Localizer, m []string) []any
}{
	{regexp.MustCompile(`^is required \(YYYY-MM-DD\)$`), "err.date_required", nil},
	{regexp.MustCompile(`^must be at least (\d+) characters$`), "err.password_short", intArgs},
	{regexp.MustCompile(`^must be at most (\d+) bytes$`), "err.password_long", intArgs},
	{regexp.MustCompile(`^is too common or too easy to guess`), "err.password_weak", nil},
	{regexp.MustCompile(`^is built on your name, your e-mail address or the service's name`), "err.password_personal", nil},
	{regexp.MustCompile(`^is not your current password$`), "err.password_current", nil},
	{regexp.MustCompile(`^must differ from the current password$`), "err.password_same", nil},
	{regexp.MustCompile(`^is required\b`), "err.required", nil},
	{regexp.MustCompile(`^must be valid UTF-8 text$`), "err.utf8", nil},
	{regexp.MustCompile(`^must (not contain control characters|be a single line without control characters)`), "err.control", nil},
	{regexp.MustCompile(`^must be at most (\d+) characters long`), "err.too_long", intArgs},
	{regexp.MustCompile(`^must list at least one `), "err.choose_one", nil},
	{regexp.MustCompile(`^must list at most (\d+) entries`), "err.too_many", intArgs},
	{regexp.MustCompile(`^repeats `), "err.repeat", nil},
	{regexp.MustCompile(`^unknown `), "err.unknown", nil},
	{regexp.MustCompile(`^must be greater than 0$`), "err.positive", nil},
	{regexp.MustCompile(`^must be less than (\d+)$`), "err.too_big", func(L *Localizer, m []string) []any {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return []any{L.Money(n)}
	}},
	{regexp.MustCompile(`^must be a real calendar date`), "err.date", nil},
	{regexp.MustCompile(`^must be between (\d+) and (\d+) for (\w+)$`), "err.stage_range", func(L *Localizer, m []string) []any {
		return []any{m[1], m[2], L.Label(models.KindFramework, m[3])}
	}},
	{regexp.MustCompile(`^must not be below maturity\.current`), "err.target_below", nil},
	{regexp.MustCompile(`^\S+ belongs to theme (\w+), not \w+$`), "err.cap_theme", themeArg},
	{regexp.MustCompile(`^\S+ belongs to theme (\w+), which is not among the offer's themes$`), "err.cap_theme_offer", themeArg},
	{regexp.MustCompile(`^must be between (\d+) and (\d+)$`), "err.between", func(_ *Localizer, m []string) []any { return []any{m[1], m[2]} }},
	{regexp.MustCompile(`^must be one of `), "err.choose", nil},
	{regexp.MustCompile(`^must be newest or priority$`), "err.choose", nil},
	{regexp.MustCompile(`^must not be before available_from`), "err.until_before", nil},
	{regexp.MustCompile(`^cannot be below the (\d+) engagements already agreed$`), "err.below_used", intArgs},
	{regexp.MustCompile(`^must be an ISO 3166-1 alpha-2 code$`), "err.country", nil},
	{regexp.MustCompile(`^must be a SIM3 level from 0 to 4$`), "err.between", func(*Localizer, []string) []any { return []any{"0", "4"} }},
	{regexp.MustCompile(`^is not a cursor from this list`), "err.cursor", nil},
	{regexp.MustCompile(`^differs from If-Match$`), "err.stale", nil},
	{regexp.MustCompile(`^must be a finite number$`), "err.percent", nil},
	{regexp.MustCompile(`^must be a real date written`), "err.date", nil},
	{regexp.MustCompile(`^must not be after today \((\d{4}-\d{2}-\d{2})\)`), "err.not_future", func(L *Localizer, m []string) []any {
		return []any{L.Date(models.Date(m[1]))}
	}},
	{regexp.MustCompile(`^must be empty while the project is in pipeline`), "err.pipeline_actual", nil},
	{regexp.MustCompile(`^must not be before \w+$`), "err.until_before", nil},
	{regexp.MustCompile(`^must be a whole number of US dollars from 1 to`), "err.amount", nil},
	{regexp.MustCompile(`^must be between 1 and [\d,]+ when given$`), "err.amount", nil},
	{regexp.MustCompile(`^must be between 1 and what remains of the offer \(US\$(\d+)\)$`), "err.exceeds_offer", moneyArg},
	{regexp.MustCompile(`^must not be (?:before|after) the offer's window (?:opens|ends) \((\S*) to (\S*)\)$`), "err.outside_window", dateArgs},
	{regexp.MustCompile(`^must not be before the engagement's period starts \((\S+)\)$`), "err.before_engagement", dateArgs},
	{regexp.MustCompile(`^must not be after the engagement's period ends \((\S+)\)$`), "err.after_engagement", dateArgs},
	{regexp.MustCompile(`^cannot be below the US\$(\d+) already committed`), "err.below_committed", moneyArg},
	{regexp.MustCompile(`^must be pledge, commitment, disbursement or expenditure$`), "err.choose", nil},
	{regexp.MustCompile(`^must be an implementer or donor organization$`), "err.choose", nil},
	{regexp.MustCompile(`^must be an IATI activity status code`), "err.choose", nil},
	{regexp.MustCompile(`^must be proposed, accepting, agreed, declined, withdrawn or cancelled$`), "err.choose", nil},
	{regexp.MustCompile(`^must be between 0 and 1, got `), "err.weight_range", nil},
	{regexp.MustCompile(`^must be between ([\d,]+) and ([\d,]+)$`), "err.between", func(L *Localizer, m []string) []any {
		lo, _ := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
		hi, _ := strconv.ParseInt(strings.ReplaceAll(m[2], ",", ""), 10, 64)
		return []any{L.Num(lo), L.Num(hi)}
	}},
	{regexp.MustCompile(`^must be output or outcome$`), "err.choose", nil},
	{regexp.MustCompile(`^must be an absolute http\(s\) URL$`), "err.url", nil},
	{regexp.MustCompile(`^must be a plain e-mail address`), "err.email", nil},
	{regexp.MustCompile(`^must be an ISO 639-1 code$`), "err.language", nil},
	{regexp.MustCompile(`^at most (\d+) (?:results|documents)$`), "err.too_many", intArgs},
	{regexp.MustCompile(`^must have at most four decimal places`), "err.weight_decimals", nil},
	{regexp.MustCompile(`^must be diplomatic or technical`), "err.choose", nil},
	{regexp.MustCompile(`^must be an e-mail address`), "err.email", nil},
	{regexp.MustCompile(`^must be an international number in E\.164 form`), "err.phone", nil},
	{regexp.MustCompile(`^none of these countries has nominated a Point of Contact`), "err.no_pocs", nil},
	{regexp.MustCompile(`^(give either countries or a region|name the countries to check)`), "err.scope", nil},
	{regexp.MustCompile(`^must add up to 1, they add up to ([\d.]+)$`), "err.weight_sum", func(L *Localizer, m []string) []any {
		v, _ := strconv.ParseFloat(m[1], 64)
		return []any{L.Percent(v)}
	}},
}

func intArgs(L *Localizer, m []string) []any {
	out := make([]any, 0, len(m)-1)
	for _, s := range m[1:] {
		n, err := strconv.Atoi(s)
		if err != nil {
			out = append(out, s)
			continue
		}
		out = append(out, L.Num(n))
	}
	return out
}

func themeArg(L *Localizer, m []string) []any { return []any{L.Label(models.KindTheme, m[1])} }

// moneyArg shows a captured whole number of US dollars as money.
func moneyArg(L *Localizer, m []string) []any {
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return []any{L.Money(n)}
}

// dateArgs shows captured dates in the user's language.
func dateArgs(L *Localizer, m []string) []any {
	out := make([]any, 0, len(m)-1)
	for _, d := range m[1:] {
		out = append(out, L.Date(models.Date(d)))
	}
	return out
}

// translateFieldError turns one domain message into the user's language; an unforeseen
// message becomes a generic "check this value".
func translateFieldError(L *Localizer, msg string) string {
	if key, args, ok := matchFieldError(L, msg); ok {
		return L.T(key, args...)
	}
	return L.T("err.invalid")
}

func matchFieldError(L *Localizer, msg string) (string, []any, bool) {
	for _, r := range fieldErrorRules {
		m := r.re.FindStringSubmatch(msg)
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

// splitCodes splits a free-text list ("fr, en pt") into codes.
func splitCodes(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
