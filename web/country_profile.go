package web

import (
	"html/template"
	"sort"
	"strconv"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
)

// The parts of the country page issue 17 added: the country's sources (documents and links,
// public), its readiness history (public; who changed it by organization), and the way to its
// self-assessments for those who may read them. The countries list's readiness columns and their
// sorting are here too.

// countryProfile is what the country page shows beyond the profile itself.
type countryProfile struct {
	Sources        []sourceRow
	CanEditSources bool
	History        []historyRow
	// MoreHistory counts the older changes not shown (the API lists them all).
	MoreHistory    int
	CanAssessments bool
}

// sourceRow is one source as the page shows it.
type sourceRow struct {
	models.CountrySource
	Kind string
}

// historyRow is one change of the readiness profile.
type historyRow struct {
	When, Who, How string
	Changes        []string
	Assessment     string
}

// historyShown is how many changes the country page lists, newest first.
const historyShown = 20

func (u *UI) countryProfile(r *req, cv *service.CountryView) (*countryProfile, error) {
	a, ctx, L := r.actor(), r.c.UserContext(), r.L
	p := &countryProfile{CanEditSources: a != nil && models.AuthorizeCountrySources(a, cv.ISO) == nil,
		CanAssessments: models.CanSeeAssessments(a, cv.ISO)}
	if cv.Sources != nil {
		for _, s := range *cv.Sources {
			p.Sources = append(p.Sources, sourceRow{CountrySource: s, Kind: models.SourceKindLabel(L.Lang, s.Kind)})
		}
	}
	h, err := u.app.Countries.ReadinessHistory(ctx, a, cv.ISO)
	if err != nil {
		return nil, err
	}
	for i, e := range h.Items {
		if i == historyShown {
			p.MoreHistory = len(h.Items) - historyShown
			break
		}
		row := historyRow{When: L.Date(e.At), Who: L.T("readiness.by_system"), How: L.T("readiness.source." + string(e.Source))}
		if e.By.OrganizationID != "" {
			row.Who = u.orgName(ctx, e.By.OrganizationID)
			if row.Who == "" {
				row.Who = L.T("role." + string(e.By.Role))
			}
		}
		if e.AssessmentID != "" {
			row.Assessment = "/countries/" + cv.ISO + "/assessments/" + e.AssessmentID
		}
		for _, c := range e.Changes {
			row.Changes = append(row.Changes, L.T("readiness.change", readinessFact(L, c.Field),
				readinessValue(L, c.Field, string(c.From)), readinessValue(L, c.Field, string(c.To))))
		}
		p.History = append(p.History, row)
	}
	return p, nil
}

// readinessFact names a readiness fact: its history label when the catalogs have one
// ("readiness.fact.<field>", for facts whose profile label does not fit a list of changes,
// like the derived Points of Contact facts), else its label ("readiness.<field>"), else its
// code (a fact added later shows until it is translated).
func readinessFact(L *Localizer, field string) string {
	for _, k := range []string{"readiness.fact." + field, "readiness." + field} {
		if L.Has(k) {
			return L.T(k)
		}
	}
	return field
}

// historyFacts are the facts with a history label of their own (readinessFact).
var historyFacts = []string{"poc_last_check", "poc_missed_checks"}

// readinessValue shows a fact's value: yes or no, a SIM3 level by name, else as recorded.
func readinessValue(L *Localizer, field, raw string) string {
	switch raw {
	case "null", `""`:
		return "—"
	case "true":
		return L.T("common.yes")
	case "false":
		return L.T("common.no")
	}
	if d := models.Date(strings.Trim(raw, `"`)); field == "poc_last_check" && d.Valid() {
		return L.Date(d)
	}
	if n, err := strconv.Atoi(raw); err == nil {
		if field == "cert_maturity" {
			return L.Stage(models.FrameworkSIM3, n)
		}
		return L.Num(n)
	}
	return strings.Trim(raw, `"`)
}

// countrySorts are the columns the countries list sorts by, and whether each starts with the
// largest (counts, money, readiness: the most ready first).
var countrySorts = map[string]bool{"name": false, "open_needs": true, "requested": true, "poc": true, "cert": true,
	"legal": true, "strategy": true, "readiness": true}

// readinessScore counts a country's readiness facts (0–4) for the summary column.
func readinessScore(r models.Readiness) int {
	n := 0
	for _, b := range []bool{r.PoCNominated, r.NationalCERT, r.LegalPositionPublished, r.NationalStrategy} {
		if b {
			n++
		}
	}
	return n
}

// sortCountries orders the rows (already by name) by a column; dir "asc" or "desc" overrides the
// column's natural direction. Ties keep the name order. It returns the column and direction used.
func sortCountries(rows []countryRow, by, dir string) (string, bool) {
	desc, ok := countrySorts[by]
	if !ok {
		by, desc = "name", false
	}
	switch dir {
	case "asc":
		desc = false
	case "desc":
		desc = true
	}
	key := func(c countryRow) int64 {
		r := c.Readiness
		b := func(v bool) int64 {
			if v {
				return 1
			}
			return 0
		}
		switch by {
		case "open_needs":
			return int64(c.OpenNeeds)
		case "requested":
			return c.Funding.Requested
		case "poc":
			return b(r.PoCNominated)
		case "cert":
			// A CERT first, then by its SIM3 level.
			return b(r.NationalCERT)*10 + int64(r.CERTMaturity)
		case "legal":
			return b(r.LegalPositionPublished)
		case "strategy":
			return b(r.NationalStrategy)
		case "readiness":
			return int64(readinessScore(r))*10 + int64(r.CERTMaturity)
		}
		return 0
	}
	if by == "name" {
		if desc {
			for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
				rows[i], rows[j] = rows[j], rows[i]
			}
		}
		return by, desc
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if desc {
			return key(rows[i]) > key(rows[j])
		}
		return key(rows[i]) < key(rows[j])
	})
	return by, desc
}

// SortLink is the link of a column header: sort by the column, or flip the direction when the
// table is already sorted by it; the filters are kept.
func (p *countriesPage) SortLink(col string) template.URL {
	dir := ""
	if p.Sort == col {
		if p.Desc {
			dir = "asc"
		} else {
			dir = "desc"
		}
	}
	open := ""
	if p.Open {
		open = "1"
	}
	return queryURL("region", p.Region, "open", open, "sort", col, "dir", dir)
}

// AriaSort is the aria-sort of a column header.
func (p *countriesPage) AriaSort(col string) string {
	switch {
	case p.Sort != col:
		return "none"
	case p.Desc:
		return "descending"
	}
	return "ascending"
}
