package i18n

import (
	"strings"

	"github.com/capmatch/capmatch/models"
)

// Message writes a coded message (a reason, a problem, a notification, a format) with named
// arguments. The message's text refers to them by name:
//
//	{name}          the argument, written by its kind (models.ArgKind): a capability code as its
//	                label, an amount as money, a date as the language's date, a list of codes
//	                as their labels joined with the language's "and";
//	{name,or}       a list joined with "or" instead;
//	{name?text}     text (which may hold placeholders) when the argument is given and not
//	                empty, nothing otherwise: the optional part of a sentence.
//
// A message defined only in plural forms (key.one, key.other, ...) is picked by the argument
// named count, by the language's CLDR rule. An argument the message names but the caller did
// not give writes nothing; a key the catalog lacks writes itself.
func (l *Localizer) Message(key string, args models.Args) string {
	s, ok := l.lookup(key)
	if !ok {
		c, counted := args["count"]
		if _, plural := l.lookup(key + ".other"); !plural {
			return key
		}
		n := 0
		if counted {
			n = int(c.Int())
		}
		s, _ = l.lookup(l.pluralKey(key, n))
	}
	return l.fill(s, args)
}

// fill replaces the placeholders of a message's text.
func (l *Localizer) fill(s string, args models.Args) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			b.WriteByte(s[i])
			continue
		}
		end := closing(s, i)
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		inner := s[i+1 : end]
		i = end
		if name, text, cond := strings.Cut(inner, "?"); cond {
			if a, ok := args[name]; ok && !empty(a) {
				b.WriteString(l.fill(text, args))
			}
			continue
		}
		name, opt, _ := strings.Cut(inner, ",")
		if a, ok := args[name]; ok {
			b.WriteString(l.Arg(a, opt))
		}
	}
	return b.String()
}

// closing finds the brace that closes the one at i, or -1.
func closing(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// empty reports whether an argument has nothing to show: no value, an empty text.
func empty(a models.Arg) bool {
	if a.Value == nil {
		return true
	}
	if a.IsList() {
		return len(a.List()) == 0
	}
	if s, ok := a.Value.(string); ok {
		return strings.TrimSpace(s) == ""
	}
	return false
}

// Arg writes one argument by its kind; opt "or" joins a list with "or".
func (l *Localizer) Arg(a models.Arg, opt string) string {
	switch a.Kind {
	case models.ArgKindInt:
		return l.Num(a.Int())
	case models.ArgKindNumber:
		return l.Decimal(a.Float())
	case models.ArgKindShare:
		return l.Percent(floorPercent(a.Float()))
	case models.ArgKindUSD:
		return l.Money(a.Int())
	case models.ArgKindDate:
		return l.Date(models.Date(a.Str()))
	case models.ArgKindDateRange:
		r := a.DateRange()
		dates := models.Args{"from": models.ArgDate(r.From), "until": models.ArgDate(r.Until)}
		switch {
		case r.From != "" && r.Until != "":
			return l.Message("fmt.range.between", dates)
		case r.Until != "":
			return l.Message("fmt.range.until", dates)
		case r.From != "":
			return l.Message("fmt.range.from", dates)
		}
		return l.Message("fmt.range.open", nil)
	case models.ArgKindPeriod:
		p := a.Period()
		args := models.Args{"months": models.ArgText(l.N("common.months", p.Months)), "start": models.ArgDate(p.Start)}
		if p.FromToday {
			return l.Message("fmt.period.today", args)
		}
		return l.Message("fmt.period", args)
	case models.ArgKindStage:
		return l.Stage(a.Of, int(a.Int()))
	case models.ArgKindText:
		return a.Str()
	}
	// Codes: literal ones as they are, catalogue ones as their labels; one or a list.
	codes := a.List()
	if !a.IsList() && len(codes) == 1 {
		return l.code(a.Kind, codes[0])
	}
	words := make([]string, len(codes))
	for i, c := range codes {
		words[i] = l.inSentence(a.Kind, l.code(a.Kind, c))
	}
	return l.join(words, opt)
}

// code writes one code of a kind: a country by its name, a catalogue code by its label, any
// other as it is.
func (l *Localizer) code(kind models.ArgKind, c string) string {
	switch kind {
	case models.ArgKindCode, "":
		return c
	case models.KindCountry:
		return l.Country(c)
	}
	return l.Label(string(kind), c)
}

// join writes a list the language's way: "a, b and c" (list.sep, list.and), "a, b or c"
// (list.or); an empty list is list.none.
func (l *Localizer) join(words []string, opt string) string {
	switch len(words) {
	case 0:
		return l.T("list.none")
	case 1:
		return words[0]
	}
	last := l.T("list.and")
	if opt == "or" {
		last = l.T("list.or")
	}
	return strings.Join(words[:len(words)-1], l.T("list.sep")) + last + words[len(words)-1]
}

// Reason writes a match factor's reason: the message "reason.<code>".
func (l *Localizer) Reason(code string, args models.Args) string {
	return l.Message("reason."+code, args)
}

// Problem writes a validation problem: the message "problem.<code>", or problem.invalid
// ("check this value") for a code the catalog does not know yet.
func (l *Localizer) Problem(code string, args models.Args) string {
	if _, ok := l.lookup("problem." + code); !ok {
		if _, ok := l.lookup("problem." + code + ".other"); !ok {
			return l.Message("problem.invalid", nil)
		}
	}
	return l.Message("problem."+code, args)
}

// FieldErrors returns a copy of field errors with each Message written in this language.
func (l *Localizer) FieldErrors(fs []models.FieldError) []models.FieldError {
	if fs == nil {
		return nil
	}
	out := make([]models.FieldError, len(fs))
	for i, f := range fs {
		if f.Code != "" {
			f.Message = l.Problem(f.Code, f.Args)
		}
		out[i] = f
	}
	return out
}

// Notice writes a notification's text: the message "notice.<kind>" with its arguments. A
// notification stored before kinds carried arguments keeps its stored text; a kind the
// catalog does not know shows its stored text, or its kind.
func (l *Localizer) Notice(n *models.Notification) string {
	if len(n.Args) == 0 && n.Text != "" {
		return n.Text
	}
	if _, ok := l.lookup("notice." + n.Kind); !ok {
		if n.Text != "" {
			return n.Text
		}
		return n.Kind
	}
	return l.Message("notice."+n.Kind, n.Args)
}

// Reason implements models.Texts: a reason in lang.
func (c *Catalog) Reason(lang, code string, args models.Args) string {
	return c.For(lang).Reason(code, args)
}

// Notice implements models.Texts: a notification's text in lang.
func (c *Catalog) Notice(lang string, n *models.Notification) string {
	return c.For(lang).Notice(n)
}
