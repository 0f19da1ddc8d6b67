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

// TimePrecision is the precision of every time capmatch stores: MongoDB (and FerretDB) keep
// dates to the millisecond.
const TimePrecision = time.Millisecond

// StoredTime is t as the store will keep it (truncated to TimePrecision). Times are taken this
// way before they are stored or returned, so that the replica that made a change, the replicas
// that applied its event and those that read it back from the store hold the same time, and
// list cursors (which sort by creation time) agree between them. service.New applies it to the
// clock every use case reads.
func StoredTime(t time.Time) time.Time { return t.Truncate(TimePrecision) }
