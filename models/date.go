package models

import "time"

// Date is a calendar date written YYYY-MM-DD. It is a string so that it sorts, compares and
// stores as itself in JSON and BSON without custom codecs.
type Date string

// DateLayout is the layout of a Date.
const DateLayout = "2006-01-02"

// Time parses the date; ok is false for anything that is not a real calendar date.
func (d Date) Time() (t time.Time, ok bool) {
	t, err := time.Parse(DateLayout, string(d))
	if err != nil || t.Format(DateLayout) != string(d) {
		return time.Time{}, false
	}
	return t, true
}

// Valid reports whether d is a real calendar date.
func (d Date) Valid() bool {
	_, ok := d.Time()
	return ok
}

// AddMonths returns the date n months later (time.AddDate semantics), or d itself when d is
// not a valid date.
func (d Date) AddMonths(n int) Date {
	t, ok := d.Time()
	if !ok {
		return d
	}
	return Date(t.AddDate(0, n, 0).Format(DateLayout))
}

// DateOf returns the UTC calendar date of t.
func DateOf(t time.Time) Date { return Date(t.UTC().Format(DateLayout)) }
