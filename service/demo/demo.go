// Package demo holds the demo data set that capmatch loads on an empty store when
// CAPMATCH_DEMO is on, so that a first-time visitor sees a marketplace that reads like the
// real one: ministries of about thirty countries asking for help with national positions on
// international law, CERTs, Points of Contact and the rest of the catalogue, and donors,
// regional organisations, a World Bank-style trust fund, a company and a foundation offering
// programmes that match some of those needs.
//
// The data is illustrative. Governments, ministries, agencies and multilateral bodies are
// named so that the demo is recognisable, but no need, offer, budget or readiness figure
// describes a real request, commitment or assessment; companies, foundations, GFCE partners
// and implementers carry invented or generic names so that nothing claims a real commitment
// by a real company. All e-mail addresses use the reserved .example domain.
//
// The package is pure data plus a constructor: it does not talk to the store. The loader
// hashes the passwords, creates the users and fills CreatedBy with their ids.
package demo

import (
	"slices"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Account is a demo login printed at start-up and listed in the README, so that a visitor
// can try every role without creating accounts first. OrgKey is the ID of the Organization
// in the same Data the user belongs to.
type Account struct {
	Email    string
	Password string
	Name     string
	Role     models.Role
	OrgKey   string
}

// Data is the whole demo data set, in the order the loader should store it: organisations
// before the accounts, needs and offers that point at them.
type Data struct {
	Orgs      []models.Organization
	Accounts  []Account
	Needs     []models.Need
	Offers    []models.Offer
	Readiness []models.CountryProfile
	// PoCs are the directory entries (Points of Contact) of the states whose readiness says
	// they nominated some.
	PoCs []models.PoCDirectory
}

// fallbackToday is used when Build is given something that is not a calendar date, so that
// a caller's mistake still yields a usable, deterministic data set instead of a panic.
const fallbackToday models.Date = "2026-01-01"

// Build returns the demo data set with every date placed relative to today: needs want to
// start within one to nine months, offers run for one to three years around today, and
// records were created over the past weeks so that "newest first" lists look lived in.
// It is deterministic for a given date and returns fresh slices on every call, so that the
// loader may normalise or change what it gets without touching the next call's result.
func Build(today models.Date) Data {
	day, ok := today.Time()
	if !ok {
		today = fallbackToday
		day, _ = today.Time()
	}
	c := clock{today: today, midnight: day.UTC()}
	return Data{
		Orgs:      c.orgs(),
		Accounts:  accounts(),
		Needs:     c.needs(),
		Offers:    c.offers(),
		Readiness: c.readiness(),
		PoCs:      c.pocs(),
	}
}

// clock turns the relative dates of the tables into absolute ones for one "today".
type clock struct {
	today    models.Date
	midnight time.Time // today at 00:00 UTC
}

// ago is a moment daysAgo days before today at the given hour (UTC), so that records are
// always in the past, whatever time of day the loader runs.
func (c clock) ago(daysAgo, hour, minute int) time.Time {
	return c.midnight.AddDate(0, 0, -daysAgo).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

// monthStart is the first day of the month that lies months after today's month:
// programmes are planned by month, so whole-month windows read more naturally.
func (c clock) monthStart(months int) models.Date {
	first := time.Date(c.midnight.Year(), c.midnight.Month(), 1, 0, 0, 0, 0, time.UTC)
	return models.DateOf(first.AddDate(0, months, 0))
}

// monthEnd is the last day of the month that lies months after today's month, the usual
// end of a programme's availability window.
func (c clock) monthEnd(months int) models.Date {
	first := time.Date(c.midnight.Year(), c.midnight.Month(), 1, 0, 0, 0, 0, time.UTC)
	return models.DateOf(first.AddDate(0, months+1, -1))
}

// strs copies a list of codes so that no two Build results, and no result and the package
// tables, share a backing array; it never returns nil, so JSON shows [] for "none".
func strs(in []string) []string {
	if in == nil {
		return []string{}
	}
	return slices.Clone(in)
}
