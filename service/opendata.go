package service

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Open data (issue 18.2): what an anonymous visitor may see, as files anyone may download
// (/open-data/...) and as a public, rate-limited read API (/api/v1/public/...). Everything here
// is read as the anonymous visitor (a nil actor, models.CanSeeNeed and models.CanSeeOffer),
// through the same list code as the signed-in API, and leaves the service as the Public*
// types below: explicit lists of fields, so that a field added to a need, an offer or a country
// profile later never reaches open data by accident. Never published: needs that are not
// public or not approved, draft offers, anything about engagements, who recorded what, user
// accounts and any personal data.

// Licence is the licence open data is published under.
type Licence struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// licences are the licences a deployment may publish open data under
// (CAPMATCH_OPEN_DATA_LICENSE), by SPDX identifier; the first is the default.
var licences = []Licence{
	{ID: "CC-BY-4.0", Name: "Creative Commons Attribution 4.0 International", URL: "https://creativecommons.org/licenses/by/4.0/"},
	{ID: "CC0-1.0", Name: "Creative Commons Zero v1.0 Universal", URL: "https://creativecommons.org/publicdomain/zero/1.0/"},
	{ID: "CC-BY-SA-4.0", Name: "Creative Commons Attribution-ShareAlike 4.0 International", URL: "https://creativecommons.org/licenses/by-sa/4.0/"},
	{ID: "ODbL-1.0", Name: "Open Data Commons Open Database License v1.0", URL: "https://opendatacommons.org/licenses/odbl/1-0/"},
	{ID: "ODC-By-1.0", Name: "Open Data Commons Attribution License v1.0", URL: "https://opendatacommons.org/licenses/by/1-0/"},
}

// LicenceByID finds a licence by its SPDX identifier (case-insensitively).
func LicenceByID(id string) (Licence, bool) {
	for _, l := range licences {
		if strings.EqualFold(l.ID, strings.TrimSpace(id)) {
			return l, true
		}
	}
	return Licence{}, false
}

// LicenceIDs lists the licences a deployment may choose, default first.
func LicenceIDs() []string {
	out := make([]string, len(licences))
	for i, l := range licences {
		out[i] = l.ID
	}
	return out
}

// DefaultPublicRatePerMinute is how many requests a client address may make per minute to the
// public API and the open-data files, unless configured (CAPMATCH_PUBLIC_RATE_LIMIT).
const DefaultPublicRatePerMinute = 120

// OpenDataConfig is how open data is published.
type OpenDataConfig struct {
	// Licence of every dataset; zero: CC-BY-4.0.
	Licence Licence
	// RatePerMinute bounds the requests of one client address to the public API and the
	// open-data files; zero: DefaultPublicRatePerMinute.
	RatePerMinute int
}

// OpenData serves the open datasets and the public read API.
type OpenData struct {
	app      *App
	licence  Licence
	rate     int
	requests models.RequestLimiter
	fallback localWindows
}

func newOpenData(app *App, c OpenDataConfig, requests models.RequestLimiter) *OpenData {
	o := &OpenData{app: app, licence: c.Licence, rate: c.RatePerMinute, requests: requests}
	if o.licence.ID == "" {
		o.licence = licences[0]
	}
	if o.rate <= 0 {
		o.rate = DefaultPublicRatePerMinute
	}
	return o
}

// Licence is the licence of the open data.
func (o *OpenData) Licence() Licence { return o.licence }

// RatePerMinute is the public request limit per client address.
func (o *OpenData) RatePerMinute() int { return o.rate }

var errNoLimiter = errors.New("no shared rate limiter")

// publicWindow is the window of the public rate limit.
const publicWindow = time.Minute

// Allow counts one anonymous request from a client address and refuses it (ErrRateLimited,
// with when to retry) beyond the limit per minute. It counts in Redis across replicas, and in
// this process while Redis does not answer, so that an outage neither blocks the public nor
// lifts the limit.
func (o *OpenData) Allow(ctx context.Context, client string) error {
	key := "public:" + client
	ok, retry, err := false, time.Duration(0), errNoLimiter
	if o.requests != nil {
		ok, retry, err = o.requests.Allow(ctx, key, o.rate, publicWindow)
	}
	if err != nil {
		ok, retry = o.fallback.allow(key, o.rate, publicWindow, o.app.Needs.now())
	}
	if !ok {
		return &models.Error{Kind: models.ErrRateLimited, Detail: "too many requests from your address; try again later", RetryAfter: retry}
	}
	return nil
}

// PublicNeed is what open data publishes of a need.
type PublicNeed struct {
	ID             string            `json:"id"`
	Title          string            `json:"title"`
	Description    string            `json:"description"`
	Country        string            `json:"country"`
	Theme          models.Theme      `json:"theme"`
	Capability     models.Capability `json:"capability"`
	Modalities     []models.Modality `json:"modalities"`
	Languages      []string          `json:"languages"`
	BudgetUSD      int64             `json:"budget_usd"`
	StartBy        models.Date       `json:"start_by"`
	DurationMonths int               `json:"duration_months"`
	Priority       models.Priority   `json:"priority"`
	Maturity       models.Maturity   `json:"maturity"`
	Status         models.NeedStatus `json:"status"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

func publicNeed(n *models.Need) PublicNeed {
	return PublicNeed{ID: n.ID, Title: n.Title, Description: n.Description, Country: n.Country, Theme: n.Theme,
		Capability: n.Capability, Modalities: nonNilSlice(n.Modalities), Languages: nonNilSlice(n.Languages), BudgetUSD: n.BudgetUSD,
		StartBy: n.StartBy, DurationMonths: n.DurationMonths, Priority: n.Priority, Maturity: n.Maturity, Status: n.Status,
		UpdatedAt: n.UpdatedAt.UTC()}
}

// PublicOffer is what open data publishes of an offer: not how much of it is taken (that is
// derived from engagements).
type PublicOffer struct {
	ID                string              `json:"id"`
	Title             string              `json:"title"`
	Description       string              `json:"description"`
	Organization      string              `json:"organization"`
	Themes            []models.Theme      `json:"themes"`
	Capabilities      []models.Capability `json:"capabilities"`
	Modalities        []models.Modality   `json:"modalities"`
	Languages         []string            `json:"languages"`
	EligibleCountries []string            `json:"eligible_countries"`
	EligibleRegions   []string            `json:"eligible_regions"`
	BudgetUSD         int64               `json:"budget_usd"`
	MaxEngagements    int                 `json:"max_engagements"`
	AvailableFrom     models.Date         `json:"available_from"`
	AvailableUntil    models.Date         `json:"available_until"`
	Status            models.OfferStatus  `json:"status"`
	UpdatedAt         time.Time           `json:"updated_at"`
}

// PublicProject is what open data publishes of a project (see models.CanPublishProject).
type PublicProject struct {
	ID             string                `json:"id"`
	IATIIdentifier string                `json:"iati_identifier"`
	NeedID         string                `json:"need_id"`
	Title          string                `json:"title"`
	Country        string                `json:"country"`
	Theme          models.Theme          `json:"theme"`
	Capability     models.Capability     `json:"capability"`
	Status         models.ActivityStatus `json:"status"`
	StartDate      models.Date           `json:"start_date"`
	EndDate        models.Date           `json:"end_date"`
	ActualStart    models.Date           `json:"actual_start"`
	ActualEnd      models.Date           `json:"actual_end"`
	BudgetUSD      int64                 `json:"budget_usd"`
	CommittedUSD   int64                 `json:"committed_usd"`
	DisbursedUSD   int64                 `json:"disbursed_usd"`
	Funder         string                `json:"funding_organization"`
	Implementer    string                `json:"implementing_organization"`
}

// PublicCountry is what open data publishes of a country profile.
type PublicCountry struct {
	ISO            string           `json:"iso"`
	Name           string           `json:"name"`
	Region         string           `json:"region"`
	RegionCode     string           `json:"region_code"`
	SubRegion      string           `json:"sub_region"`
	SubRegionCode  string           `json:"sub_region_code"`
	UNMember       bool             `json:"un_member"`
	Readiness      models.Readiness `json:"readiness"`
	OpenNeeds      int              `json:"open_needs"`
	RequestedUSD   int64            `json:"requested_usd"`
	ActiveProjects int              `json:"active_projects"`
}

// PublicFunding is one row of the open funding-gap table (the funding report as the
// anonymous visitor sees it).
type PublicFunding struct {
	Key          string `json:"key"`
	Label        string `json:"label"`
	RequestedUSD int64  `json:"requested_usd"`
	CommittedUSD int64  `json:"committed_usd"`
	DisbursedUSD int64  `json:"disbursed_usd"`
	GapUSD       int64  `json:"gap_usd"`
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// orgName is an organization's name for open data, "" when there is none or it cannot be
// read: through Accounts.OrgName, the one cache of organization names.
func (o *OpenData) orgName(ctx context.Context, id string) string {
	if !models.ValidID(id) {
		return ""
	}
	name, err := o.app.Accounts.OrgName(ctx, id)
	if err != nil {
		return ""
	}
	return name
}

// Needs lists the public needs page by page, with the filters of GET /needs.
func (o *OpenData) Needs(ctx context.Context, p NeedListParams) ([]PublicNeed, string, error) {
	items, next, err := o.app.Needs.List(ctx, nil, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]PublicNeed, len(items))
	for i, n := range items {
		out[i] = publicNeed(n)
	}
	return out, next, nil
}

// Offers lists the published offers page by page, with the filters of GET /offers.
func (o *OpenData) Offers(ctx context.Context, p OfferListParams) ([]PublicOffer, string, error) {
	items, next, err := o.app.Offers.List(ctx, nil, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]PublicOffer, len(items))
	for i, x := range items {
		out[i] = o.publicOffer(ctx, x)
	}
	return out, next, nil
}

func (o *OpenData) publicOffer(ctx context.Context, x *models.Offer) PublicOffer {
	return PublicOffer{ID: x.ID, Title: x.Title, Description: x.Description, Organization: o.orgName(ctx, x.OrganizationID),
		Themes: nonNilSlice(x.Themes), Capabilities: nonNilSlice(x.Capabilities), Modalities: nonNilSlice(x.Modalities),
		Languages: nonNilSlice(x.Languages), EligibleCountries: nonNilSlice(x.EligibleCountries), EligibleRegions: nonNilSlice(x.EligibleRegions),
		BudgetUSD: x.BudgetUSD, MaxEngagements: x.MaxEngagements, AvailableFrom: x.AvailableFrom, AvailableUntil: x.AvailableUntil,
		Status: x.Status, UpdatedAt: x.UpdatedAt.UTC()}
}

// Countries lists every country as the public pages show it.
func (o *OpenData) Countries(ctx context.Context) []PublicCountry {
	views := o.app.Countries.List(ctx, nil)
	out := make([]PublicCountry, len(views))
	for i, v := range views {
		out[i] = PublicCountry{ISO: v.ISO, Name: v.Name, Region: v.Region, RegionCode: v.RegionCode, SubRegion: v.SubRegion,
			SubRegionCode: v.SubRegionCode, UNMember: v.UNMember, Readiness: v.Readiness, OpenNeeds: v.OpenNeeds,
			RequestedUSD: v.Funding.Requested, ActiveProjects: v.ActiveProjects}
	}
	return out
}

// AllNeeds is the needs dataset: every public, approved need, newest first.
func (o *OpenData) AllNeeds(ctx context.Context) []PublicNeed {
	var out []PublicNeed
	for _, n := range viewAs(o.app.model, nil).allNeeds(nil) {
		out = append(out, publicNeed(n))
	}
	return nonNilSlice(out)
}

// AllOffers is the offers dataset: every open offer, newest first.
func (o *OpenData) AllOffers(ctx context.Context) []PublicOffer {
	var out []PublicOffer
	for _, x := range viewAs(o.app.model, nil).allOffers(func(x *models.Offer) bool { return x.Status == models.OfferOpen }) {
		out = append(out, o.publicOffer(ctx, x))
	}
	return nonNilSlice(out)
}

// AllProjects is the projects dataset: the projects models.CanPublishProject opens, newest
// first, with their money.
func (o *OpenData) AllProjects(ctx context.Context) []PublicProject {
	var out []PublicProject
	for _, p := range publishedProjects(o.app.model) {
		f := p.Funding()
		pp := PublicProject{ID: p.ID, IATIIdentifier: o.app.activities.Identifier(p), NeedID: p.NeedID, Title: p.Title, Country: p.Country,
			Theme: p.Theme, Capability: p.Capability, Status: p.Status, StartDate: p.PlannedStart, EndDate: p.PlannedEnd,
			ActualStart: p.ActualStart, ActualEnd: p.ActualEnd, BudgetUSD: p.BudgetUSD, CommittedUSD: f.Committed, DisbursedUSD: f.Disbursed,
			Funder: o.orgName(ctx, p.DonorOrgID), Implementer: o.orgName(ctx, p.ImplementerID)}
		out = append(out, pp)
	}
	return nonNilSlice(out)
}

// Funding is the funding-gap table as an anonymous visitor sees it (the funding report,
// FundingReport, for a nil actor), grouped by country, theme or capability.
func (o *OpenData) Funding(ctx context.Context, groupBy string) ([]PublicFunding, error) {
	rows, err := o.app.FundingReport(ctx, nil, groupBy)
	if err != nil {
		return nil, err
	}
	out := make([]PublicFunding, len(rows))
	for i, r := range rows {
		out[i] = PublicFunding{Key: r.Key, Label: r.Label, RequestedUSD: r.Requested, CommittedUSD: r.Committed,
			DisbursedUSD: r.Disbursed, GapUSD: r.Gap}
	}
	return out, nil
}

// Column describes one column of a dataset, for the data dictionary: its stable name (the
// CSV header and the JSON field), its type, and the catalog key of its description.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Dataset is one open dataset and its columns, in file order.
type Dataset struct {
	Name    string   `json:"name"`
	Columns []Column `json:"columns"`
}

// Datasets is the data dictionary: the open datasets with their columns, in file order. The
// names are stable: a column may be added at the end, never renamed or removed. List cells
// in CSV are joined with ";"; nested fields of JSON (maturity, readiness) are flattened
// with "_" in CSV.
var Datasets = []Dataset{
	{Name: "needs", Columns: []Column{{"id", "string"}, {"title", "string"}, {"description", "string"}, {"country", "ISO 3166-1 alpha-2"},
		{"theme", "code"}, {"capability", "code"}, {"modalities", "list of codes"}, {"languages", "list of ISO 639-1"},
		{"budget_usd", "integer (USD)"}, {"start_by", "date"}, {"duration_months", "integer"}, {"priority", "code"},
		{"maturity_framework", "code"}, {"maturity_current", "integer"}, {"maturity_target", "integer"}, {"status", "code"},
		{"updated_at", "date-time (UTC)"}}},
	{Name: "offers", Columns: []Column{{"id", "string"}, {"title", "string"}, {"description", "string"}, {"organization", "string"},
		{"themes", "list of codes"}, {"capabilities", "list of codes"}, {"modalities", "list of codes"}, {"languages", "list of ISO 639-1"},
		{"eligible_countries", "list of ISO 3166-1 alpha-2"}, {"eligible_regions", "list of UN M49"}, {"budget_usd", "integer (USD)"},
		{"max_engagements", "integer"}, {"available_from", "date"}, {"available_until", "date"}, {"status", "code"},
		{"updated_at", "date-time (UTC)"}}},
	{Name: "projects", Columns: []Column{{"id", "string"}, {"iati_identifier", "string"}, {"need_id", "string"}, {"title", "string"},
		{"country", "ISO 3166-1 alpha-2"}, {"theme", "code"}, {"capability", "code"}, {"status", "IATI ActivityStatus"},
		{"start_date", "date"}, {"end_date", "date"}, {"actual_start", "date"}, {"actual_end", "date"}, {"budget_usd", "integer (USD)"},
		{"committed_usd", "integer (USD)"}, {"disbursed_usd", "integer (USD)"}, {"funding_organization", "string"},
		{"implementing_organization", "string"}}},
	{Name: "funding", Columns: []Column{{"key", "code"}, {"label", "string"}, {"requested_usd", "integer (USD)"},
		{"committed_usd", "integer (USD)"}, {"disbursed_usd", "integer (USD)"}, {"gap_usd", "integer (USD)"}}},
}

// DatasetNames lists the datasets in order.
func DatasetNames() []string {
	out := make([]string, len(Datasets))
	for i, d := range Datasets {
		out[i] = d.Name
	}
	return out
}

// Rows returns a dataset as rows of cells in the dictionary's column order, for CSV, and the
// items for JSON. groupBy applies to the funding table (country, theme or capability).
func (o *OpenData) Rows(ctx context.Context, dataset, groupBy string) (items any, rows [][]string, err error) {
	join := func(xs []string) string { return strings.Join(xs, ";") }
	i64 := func(v int64) string { return itoa64(v) }
	switch dataset {
	case "needs":
		ns := o.AllNeeds(ctx)
		for _, n := range ns {
			rows = append(rows, []string{n.ID, n.Title, n.Description, n.Country, string(n.Theme), string(n.Capability),
				join(codes(n.Modalities)), join(n.Languages), i64(n.BudgetUSD), string(n.StartBy), itoa64(int64(n.DurationMonths)),
				string(n.Priority), string(n.Maturity.Framework), itoa64(int64(n.Maturity.Current)), itoa64(int64(n.Maturity.Target)),
				string(n.Status), n.UpdatedAt.Format(time.RFC3339)})
		}
		return ns, rows, nil
	case "offers":
		os := o.AllOffers(ctx)
		for _, x := range os {
			rows = append(rows, []string{x.ID, x.Title, x.Description, x.Organization, join(codes(x.Themes)), join(codes(x.Capabilities)),
				join(codes(x.Modalities)), join(x.Languages), join(x.EligibleCountries), join(x.EligibleRegions), i64(x.BudgetUSD),
				itoa64(int64(x.MaxEngagements)), string(x.AvailableFrom), string(x.AvailableUntil), string(x.Status), x.UpdatedAt.Format(time.RFC3339)})
		}
		return os, rows, nil
	case "projects":
		ps := o.AllProjects(ctx)
		for _, p := range ps {
			rows = append(rows, []string{p.ID, p.IATIIdentifier, p.NeedID, p.Title, p.Country, string(p.Theme), string(p.Capability),
				itoa64(int64(p.Status)), string(p.StartDate), string(p.EndDate), string(p.ActualStart), string(p.ActualEnd),
				i64(p.BudgetUSD), i64(p.CommittedUSD), i64(p.DisbursedUSD), p.Funder, p.Implementer})
		}
		return ps, rows, nil
	case "funding":
		fs, err := o.Funding(ctx, groupBy)
		if err != nil {
			return nil, nil, err
		}
		sort.SliceStable(fs, func(i, j int) bool { return fs[i].GapUSD > fs[j].GapUSD })
		for _, f := range fs {
			rows = append(rows, []string{f.Key, f.Label, i64(f.RequestedUSD), i64(f.CommittedUSD), i64(f.DisbursedUSD), i64(f.GapUSD)})
		}
		return fs, rows, nil
	}
	return nil, nil, models.Errorf(models.ErrNotFound, "no dataset %q; the datasets are %s", dataset, strings.Join(DatasetNames(), ", "))
}

func codes[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }

// localWindows is the in-process fixed-window counter the public limit falls back to while
// Redis does not answer.
type localWindows struct {
	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	n     int
	reset time.Time
}

func (l *localWindows) allow(key string, max int, d time.Duration, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.windows == nil {
		l.windows = map[string]*window{}
	}
	if len(l.windows) > 100_000 { // bound memory under an address-spraying attack
		for k, w := range l.windows {
			if now.After(w.reset) {
				delete(l.windows, k)
			}
		}
	}
	w, ok := l.windows[key]
	if !ok || now.After(w.reset) {
		w = &window{reset: now.Add(d)}
		l.windows[key] = w
	}
	w.n++
	if w.n > max {
		return false, w.reset.Sub(now)
	}
	return true, 0
}
