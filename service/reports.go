package service

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// FundingRow is one line of the funding-gap report, over the live needs (open, matched, in
// progress) of a country, theme or capability that the caller may see: what they request,
// what their projects committed and disbursed, and the gap, the sum of each need's
// max(0, budget − committed) (models.NeedFunding).
type FundingRow struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	// Needs counts the live needs summed; OpenNeeds those of them still open.
	Needs     int   `json:"needs"`
	OpenNeeds int   `json:"open_needs"`
	Requested int64 `json:"requested"`
	// Projects counts the projects on those needs.
	Projects  int   `json:"projects"`
	Committed int64 `json:"committed"`
	Disbursed int64 `json:"disbursed"`
	Gap       int64 `json:"gap"`
}

// fundingGroup is the funding of a group of needs with the counts the reports show.
type fundingGroup struct {
	models.NeedFunding
	Open, Projects int
}

// fundingBy is the one implementation of the funding figures: models.FundingOfNeed over the
// live needs (models.Need.CountsForFunding) that the actor may see (nil: an anonymous
// visitor), counting the projects the actor may see, summed by key. The funding report, the
// web chart and the country figures use it.
func fundingBy(m *readmodel.Model, actor *models.Actor, key func(*models.Need) string) map[string]*fundingGroup {
	v := viewAs(m, actor)
	byNeed := map[string][]*models.Project{}
	for _, p := range v.projects(nil) {
		byNeed[p.NeedID] = append(byNeed[p.NeedID], p)
	}
	out := map[string]*fundingGroup{}
	for _, n := range v.allNeeds(func(n *models.Need) bool { return n.CountsForFunding() }) {
		projects := byNeed[n.ID]
		k := key(n)
		g := out[k]
		if g == nil {
			g = &fundingGroup{}
			out[k] = g
		}
		g.Add(models.FundingOfNeed(n, projects))
		g.Projects += len(projects)
		if n.Status == models.NeedOpen {
			g.Open++
		}
	}
	return out
}

// FundingReport groups the funding of live needs by country, theme or capability, over what
// the actor may see, largest gap first.
func (a *App) FundingReport(ctx context.Context, actor *models.Actor, groupBy string) ([]FundingRow, error) {
	key := map[string]func(n *models.Need) string{
		"country":    func(n *models.Need) string { return n.Country },
		"theme":      func(n *models.Need) string { return string(n.Theme) },
		"capability": func(n *models.Need) string { return string(n.Capability) },
	}[groupBy]
	if key == nil {
		return nil, fieldErr("group_by", models.ProblemOneOf, models.OneOf([]string{"country", "theme", "capability"}))
	}
	groups := fundingBy(a.model, actor, key)
	out := make([]FundingRow, 0, len(groups))
	for k, g := range groups {
		out = append(out, FundingRow{Key: k, Label: fundingLabel(groupBy, k), Needs: g.Needs, OpenNeeds: g.Open, Requested: g.Requested,
			Projects: g.Projects, Committed: g.Committed, Disbursed: g.Disbursed, Gap: g.Gap})
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

// IATIConfig is how this deployment publishes IATI data: what the export adapter does not know.
type IATIConfig struct {
	// PublicURL is the deployment's public base URL (CAPMATCH_PUBLIC_URL, e.g.
	// https://capmatch.example.org), for the absolute URLs written into exports; empty means
	// the base URL of the request that asks for the export.
	PublicURL string
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
// rules (see adapters/iati): capmatch reports as the configured publisher, as a secondary
// reporter of projects whose funder publishes its own IATI data.
func (a *App) ExportIATI(ctx context.Context, actor *models.Actor, in IATIExport) ([]byte, error) {
	var p models.Problems
	country := models.NormalizeISO(in.Country)
	if country != "" && !models.ValidISO(country) {
		p.Add("country", models.ProblemUnknownCountry, models.Args{"value": models.ArgSent(country)})
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
	byID := make(map[string]*models.Organization, len(orgs))
	for _, o := range orgs {
		byID[o.ID] = o
	}
	base := strings.TrimRight(firstNonEmptyString(a.iati.PublicURL, in.BaseURL), "/")
	var buf bytes.Buffer
	if err := a.activities.Export(&buf, projects, byID, a.Projects.now().UTC().Truncate(time.Second), base); err != nil {
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
