package web

import (
	"errors"
	"net/url"
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
			f.Add(name, L.Problem(models.ProblemRequired, nil))
		}
		return 0
	}
	clean := strings.NewReplacer(" ", "", ",", "", ".", "", "\u00a0", "", "\u202f", "", "'", "").Replace(s)
	n, err := strconv.ParseInt(clean, 10, 64)
	if err != nil {
		f.Add(name, L.Problem(models.ProblemWholeNumber, nil))
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
			f.Add(name, L.Problem(models.ProblemDateRequired, nil))
		}
		return ""
	}
	d := models.Date(s)
	if !d.Valid() {
		f.Add(name, L.Problem(models.ProblemDateInvalid, models.Args{"got": models.ArgSent(s)}))
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

// addDomainErrors puts a validation error's field problems next to their fields, each written
// in the user's language from its code and arguments.
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
		f.Add(field(fe.Field), L.Problem(fe.Code, fe.Args))
	}
	if len(de.Fields) == 0 {
		f.Add("", L.T("problem.invalid"))
	}
	return true
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
