package models

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// Codes and arguments, not sentences. What the domain and the engine say to people (a
// validation problem, a match factor's reason, a notification) leaves them as a stable code
// and named arguments; the edges (the API, the web UI, the CLI) write the words, in the
// reader's language, from one catalog (package i18n). A rewording or a new language then
// never breaks a client that switches on codes, and no layer parses another's English.
//
// Each argument carries its kind, so that a renderer (ours, or a client's) knows how to write
// it: a capability code becomes its label, an amount money, a date the language's date, a list
// of language codes their names joined with "and". The value's Go type follows from the kind:
//
//	text, code                       string
//	int, usd                         int64 (whole numbers; usd is whole US dollars)
//	number, share                    float64 (share is a fraction of 1, written as a percentage)
//	date                             Date as a string, YYYY-MM-DD
//	date_range                       DateRange
//	period                           Period
//	stage                            int64, the stage of the framework named in Of
//	theme, capability, modality,     string (one code) or []string (a list of codes)
//	language, priority, visibility,
//	maturity_framework, region, country, code
//
// JSON encodes an argument as {"kind": ..., "value": ..., "of": ...}.

// ArgKind says how a message argument is written in a language.
type ArgKind string

// The kinds of argument. The catalogue's kinds (KindTheme, ...) are kinds too: a code, or a
// list of codes, written with the catalogue's labels.
const (
	// ArgKindText is free text written as it is: a title, a name, a reason a user typed, a
	// value a client sent.
	ArgKindText ArgKind = "text"
	// ArgKindCode is a literal code written as it is: a field name, an enumeration value a
	// client may send (one, or a list).
	ArgKindCode ArgKind = "code"
	// ArgKindInt is a whole number: a count, a limit.
	ArgKindInt ArgKind = "int"
	// ArgKindNumber is a decimal number.
	ArgKindNumber ArgKind = "number"
	// ArgKindShare is a fraction of 1, written as a percentage.
	ArgKindShare ArgKind = "share"
	// ArgKindUSD is an amount in whole US dollars.
	ArgKindUSD ArgKind = "usd"
	// ArgKindDate is a calendar date, YYYY-MM-DD.
	ArgKindDate ArgKind = "date"
	// ArgKindDateRange is a window of dates, either end of which may be open (DateRange).
	ArgKindDateRange ArgKind = "date_range"
	// ArgKindPeriod is a number of months from a start date (Period).
	ArgKindPeriod ArgKind = "period"
	// ArgKindStage is a stage of the maturity framework named in the argument's Of.
	ArgKindStage ArgKind = "stage"
)

// DateRange is the value of a date_range argument: From and Until, either "" when the window
// is open on that side.
type DateRange struct {
	From  Date `json:"from,omitempty" bson:"from,omitempty"`
	Until Date `json:"until,omitempty" bson:"until,omitempty"`
}

// Period is the value of a period argument: Months from Start; FromToday says Start is today
// because the date asked for has passed.
type Period struct {
	Months    int  `json:"months" bson:"months"`
	Start     Date `json:"start" bson:"start"`
	FromToday bool `json:"from_today,omitempty" bson:"from_today,omitempty"`
}

// Arg is one named argument of a coded message: its kind and its value (see ArgKind for the
// value's type per kind). Of qualifies a stage with its framework.
type Arg struct {
	Kind  ArgKind `json:"kind" bson:"kind"`
	Value any     `json:"value" bson:"value"`
	Of    string  `json:"of,omitempty" bson:"of,omitempty"`
}

// Args are a coded message's arguments by name; the catalog's messages refer to them as
// {name}.
type Args map[string]Arg

// The constructors of arguments, one per kind, so that the value always has its kind's type.

// ArgText is free text written as it is.
func ArgText(s string) Arg { return Arg{Kind: ArgKindText, Value: s} }

// ArgCode is a literal code (a field name, an enumeration value) written as it is.
func ArgCode(s string) Arg { return Arg{Kind: ArgKindCode, Value: s} }

// ArgCodes is a list of literal codes, written as they are.
func ArgCodes(codes ...string) Arg { return Arg{Kind: ArgKindCode, Value: codes} }

// ArgInt is a whole number.
func ArgInt[T ~int | ~int64](n T) Arg { return Arg{Kind: ArgKindInt, Value: int64(n)} }

// ArgNumber is a decimal number.
func ArgNumber(f float64) Arg { return Arg{Kind: ArgKindNumber, Value: f} }

// ArgShare is a fraction of 1, written as a percentage.
func ArgShare(f float64) Arg { return Arg{Kind: ArgKindShare, Value: f} }

// ArgUSD is an amount in whole US dollars.
func ArgUSD(v int64) Arg { return Arg{Kind: ArgKindUSD, Value: v} }

// ArgDate is a calendar date.
func ArgDate(d Date) Arg { return Arg{Kind: ArgKindDate, Value: string(d)} }

// ArgDateRange is a window of dates; an empty end is open.
func ArgDateRange(from, until Date) Arg {
	return Arg{Kind: ArgKindDateRange, Value: DateRange{From: from, Until: until}}
}

// ArgPeriod is months from start (fromToday: start is today, the date asked for has passed).
func ArgPeriod(months int, start Date, fromToday bool) Arg {
	return Arg{Kind: ArgKindPeriod, Value: Period{Months: months, Start: start, FromToday: fromToday}}
}

// ArgStage is a stage of a maturity framework, written with the framework's stage names.
func ArgStage(f MaturityFramework, stage int) Arg {
	return Arg{Kind: ArgKindStage, Value: int64(stage), Of: string(f)}
}

// ArgOf is one code of a catalogue kind (KindTheme, KindCapability, KindCountry, ...),
// written with its label.
func ArgOf[T ~string](kind string, code T) Arg { return Arg{Kind: ArgKind(kind), Value: string(code)} }

// ArgList is a list of codes of a catalogue kind, written as their labels joined the
// language's way ("French and Wolof"; the message may ask for "or").
func ArgList[T ~string](kind string, codes []T) Arg {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = string(c)
	}
	return Arg{Kind: ArgKind(kind), Value: out}
}

// The readers of a value, tolerant of how it was decoded (JSON numbers are float64, BSON
// whole numbers int32 or int64, lists []any), so that a renderer never cares where the
// arguments came from.

// Int returns the value as a whole number (0 when it is not a number).
func (a Arg) Int() int64 {
	switch v := a.Value.(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case float64:
		return int64(math.Round(v))
	case json.Number:
		n, _ := v.Int64()
		return n
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// Float returns the value as a number (0 when it is not one).
func (a Arg) Float() float64 {
	switch v := a.Value.(type) {
	case float64:
		return v
	case int64:
		return float64(v)
	case int:
		return float64(v)
	case int32:
		return float64(v)
	case json.Number:
		f, _ := v.Float64()
		return f
	case string:
		f, _ := strconv.ParseFloat(v, 64)
		return f
	}
	return 0
}

// Str returns a single value as a string ("" for a list or a structure).
func (a Arg) Str() string {
	switch v := a.Value.(type) {
	case string:
		return v
	case nil:
		return ""
	case int64, int, int32:
		return strconv.FormatInt(a.Int(), 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	if rv := reflect.ValueOf(a.Value); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map || rv.Kind() == reflect.Struct {
		return ""
	}
	return fmt.Sprint(a.Value)
}

// IsList reports whether the value is a list of codes.
func (a Arg) IsList() bool {
	if a.Value == nil {
		return false
	}
	return reflect.ValueOf(a.Value).Kind() == reflect.Slice
}

// List returns a list value as strings (a single value as a list of one).
func (a Arg) List() []string {
	switch v := a.Value.(type) {
	case []string:
		return v
	case nil:
		return nil
	case string:
		return []string{v}
	}
	rv := reflect.ValueOf(a.Value)
	if rv.Kind() != reflect.Slice {
		return []string{a.Str()}
	}
	out := make([]string, rv.Len())
	for i := range out {
		out[i] = Arg{Value: rv.Index(i).Interface()}.Str()
	}
	return out
}

// DateRange returns a date_range value.
func (a Arg) DateRange() DateRange {
	switch v := a.Value.(type) {
	case DateRange:
		return v
	case *DateRange:
		if v != nil {
			return *v
		}
	}
	var r DateRange
	remarshal(a.Value, &r)
	return r
}

// Period returns a period value.
func (a Arg) Period() Period {
	switch v := a.Value.(type) {
	case Period:
		return v
	case *Period:
		if v != nil {
			return *v
		}
	}
	var p Period
	remarshal(a.Value, &p)
	return p
}

// remarshal converts a decoded structure (a map from JSON or BSON) into dst through JSON.
func remarshal(v any, dst any) {
	if v == nil {
		return
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice { // BSON documents decode as lists of key/value pairs
		m := map[string]any{}
		for i := 0; i < rv.Len(); i++ {
			e := reflect.Indirect(rv.Index(i))
			if e.Kind() == reflect.Interface {
				e = e.Elem()
			}
			if e.Kind() == reflect.Struct && e.NumField() >= 2 && e.Field(0).Kind() == reflect.String {
				m[e.Field(0).String()] = e.Field(1).Interface()
			}
		}
		v = m
	}
	b, err := json.Marshal(v)
	if err == nil {
		_ = json.Unmarshal(b, dst)
	}
}

// UnmarshalJSON decodes an argument and gives its value its kind's Go type, so that arguments
// that went through JSON (the web reads rankings that way) read like freshly built ones.
func (a *Arg) UnmarshalJSON(b []byte) error {
	var raw struct {
		Kind  ArgKind         `json:"kind"`
		Value json.RawMessage `json:"value"`
		Of    string          `json:"of"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*a = Arg{Kind: raw.Kind, Of: raw.Of}
	if len(raw.Value) == 0 || string(raw.Value) == "null" {
		return nil
	}
	switch raw.Kind {
	case ArgKindDateRange:
		var r DateRange
		if err := json.Unmarshal(raw.Value, &r); err != nil {
			return err
		}
		a.Value = r
		return nil
	case ArgKindPeriod:
		var p Period
		if err := json.Unmarshal(raw.Value, &p); err != nil {
			return err
		}
		a.Value = p
		return nil
	}
	var v any
	if err := json.Unmarshal(raw.Value, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case float64:
		switch raw.Kind {
		case ArgKindInt, ArgKindUSD, ArgKindStage:
			a.Value = int64(math.Round(x))
		default:
			a.Value = x
		}
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = Arg{Value: e}.Str()
		}
		a.Value = out
	default:
		a.Value = x
	}
	return nil
}
