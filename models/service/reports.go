package service

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/models/iati"
)

// FundingRow is one line of the funding-gap report: what open needs request, what projects
// committed and disbursed, and the gap between request and commitment.
type FundingRow struct {
	Key       string `json:"key"`
	Label     string `json:"label"`
	OpenNeeds int    `json:"open_needs"`
	Requested int64  `json:"requested"`
	Projects  int    `json:"projects"`
	Committed int64  `json:"committed"`
	Disbursed int64  `json:"disbursed"`
	Gap       int64  `json:"gap"`
}

// FundingReport groups requested, committed and disbursed money by country, theme or
// capability, over what the actor may see, largest gap first.
func (a *App) FundingReport(ctx context.Context, actor *models.Actor, groupBy string) ([]FundingRow, error) {
	key := map[string]func(country string, t models.Theme, c models.Capability) string{
		"country":    func(country string, _ models.Theme, _ models.Capability) string { return country },
		"theme":      func(_ string, t models.Theme, _ models.Capability) string { return string(t) },
		"capability": func(_ string, _ models.Theme, c models.Capability) string { return string(c) },
	}[groupBy]
	if key == nil {
		return nil, fieldErr("group_by", "must be country, theme or capability")
	}
	rows := map[string]*FundingRow{}
	row := func(k string) *FundingRow {
		if r, ok := rows[k]; ok {
			return r
		}
		r := &FundingRow{Key: k, Label: fundingLabel(groupBy, k)}
		rows[k] = r
		return r
	}
	for _, n := range viewAs(a.Model, actor).allNeeds(func(n *models.Need) bool { return n.Status == models.NeedOpen }) {
		r := row(key(n.Country, n.Theme, n.Capability))
		r.OpenNeeds++
		r.Requested += n.BudgetUSD
	}
	for _, p := range a.Projects.Visible(actor, "", "", 0) {
		r := row(key(p.Country, p.Theme, p.Capability))
		r.Projects++
		f := p.Funding()
		r.Committed += f.Committed
		r.Disbursed += f.Disbursed
	}
	out := make([]FundingRow, 0, len(rows))
	for _, r := range rows {
		if g := r.Requested - r.Committed; g > 0 {
			r.Gap = g
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Gap != out[j].Gap {
			return out[i].Gap > out[j].Gap
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

func fundingLabel(groupBy, k string) string {
	switch groupBy {
	case "country":
		if c, ok := models.LookupCountry(k); ok {
			return c.Name
		}
	case "theme":
		return models.Label("en", models.KindTheme, k)
	case "capability":
		return models.Label("en", models.KindCapability, k)
	}
	return k
}

// DefaultPublisher is capmatch's identity as the publisher of IATI exports until the
// deployment configures its own (CAPMATCH_IATI_PUBLISHER_REF, _NAME, _TYPE): the ref is a
// documented placeholder (iati.PlaceholderRef), and every export says so.
var DefaultPublisher = iati.Org{Ref: iati.PlaceholderRef, Name: "capmatch coordination desk", Type: "40"}

// IATIConfig is how this deployment publishes IATI data.
type IATIConfig struct {
	// Publisher is the reporting organisation of exports; its ref prefixes every
	// iati-identifier capmatch makes. A zero value means DefaultPublisher.
	Publisher iati.Org
	// PublicURL is the deployment's public base URL (CAPMATCH_PUBLIC_URL, e.g.
	// https://capmatch.example.org), for the absolute URLs written into exports; empty means
	// the base URL of the request that asks for the export.
	PublicURL string
}

// publisher returns the configured publisher, or DefaultPublisher.
func (c IATIConfig) publisher() iati.Org {
	if c.Publisher.Ref == "" {
		return DefaultPublisher
	}
	p := c.Publisher
	if p.Name == "" {
		p.Name = DefaultPublisher.Name
	}
	if p.Type == "" {
		p.Type = DefaultPublisher.Type
	}
	return p
}

// IATIExport says which projects to export and where the export is read from.
type IATIExport struct {
	// Country keeps the projects in one country (ISO 3166-1 alpha-2), when set.
	Country string
	// From and To keep the projects whose planned dates overlap from..to, when set.
	From, To models.Date
	// BaseURL is the base URL of the request (scheme and host), used for absolute URLs when
	// IATIConfig.PublicURL is not set.
	BaseURL string
}

// ExportIATI writes the projects the actor may see, in a country and overlapping the dates
// from..to when given, as an IATI 2.03 activities file that passes the IATI Validator's
// rules (see models/iati): capmatch reports as the configured publisher, as a secondary
// reporter of projects whose funder publishes its own IATI data.
func (a *App) ExportIATI(ctx context.Context, actor *models.Actor, in IATIExport) ([]byte, error) {
	var p models.Problems
	country := models.NormalizeISO(in.Country)
	if country != "" && !models.ValidISO(country) {
		p.Add("country", "must be an ISO 3166-1 alpha-2 code")
	}
	from, to := in.From, in.To
	checkDates(&p, "from", from, "to", to, false)
	if err := p.Err(); err != nil {
		return nil, err
	}
	var projects []*models.Project
	for _, prj := range a.Projects.Visible(actor, country, "", 0) {
		if (from == "" || prj.PlannedEnd >= from) && (to == "" || prj.PlannedStart <= to) {
			projects = append(projects, prj)
		}
	}
	if len(projects) == 0 {
		return nil, models.Errorf(models.ErrNotFound, "no project you may see matches; an IATI file needs at least one activity")
	}
	orgs, err := a.store.ListOrgs(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]iati.Org, len(orgs))
	for _, o := range orgs {
		typ := o.IATIType
		if typ == "" && o.Type == models.OrgGovernment {
			typ = "10"
		}
		byID[o.ID] = iati.Org{Ref: o.IATIRef, Name: o.Name, Type: typ, Publishes: o.PublishesIATI}
	}
	base := strings.TrimRight(firstNonEmptyString(a.iati.PublicURL, in.BaseURL), "/")
	var buf bytes.Buffer
	if err := iati.Write(&buf, projects, iati.Options{ReportingOrg: a.iati.publisher(), Orgs: byID,
		GeneratedAt: a.Projects.Now().UTC().Truncate(time.Second), CatalogueURL: base + iati.CataloguePath}); err != nil {
		return nil, fmt.Errorf("write IATI: %w", err)
	}
	return buf.Bytes(), nil
}

func firstNonEmptyString(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
