package web

import (
	"net/url"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// listLimit is the page size of lists: small pages for slow connections.
const listLimit = 25

// option is one entry of a select.
type option struct {
	Value, Label string
}

// capGroup is the capabilities of one theme, for grouped selects and checkbox lists.
type capGroup struct {
	Theme models.Theme
	Caps  []models.Capability
}

func capGroups() []capGroup {
	out := make([]capGroup, 0, len(models.Themes))
	for _, t := range models.Themes {
		out = append(out, capGroup{Theme: t, Caps: models.ThemeCapabilities(t)})
	}
	return out
}

// countryOptions lists countries as select options sorted by their localized name.
func countryOptions(L *Localizer, isos []string) []option {
	out := make([]option, 0, len(isos))
	for _, iso := range isos {
		out = append(out, option{Value: iso, Label: L.Country(iso)})
	}
	sortByName(L, out, func(o option) string { return o.Label })
	return out
}

func allISOs() []string {
	cs := models.Countries()
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ISO
	}
	return out
}

// homePage is the data of the home page.
type homePage struct {
	OpenNeeds, OpenOffers, Countries int
	Workspace                        string
}

// Home is the start page: what capmatch is, figures, and the way in for each group.
func (u *UI) Home() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		a := r.actor()
		hp := &homePage{}
		for _, cv := range u.app.Countries.List(r.c.UserContext(), a) {
			if cv.OpenNeeds > 0 {
				hp.Countries++
				hp.OpenNeeds += cv.OpenNeeds
			}
		}
		hp.OpenOffers = u.app.Offers.StatusCounts(r.c.UserContext(), a)[models.OfferOpen]
		if a != nil {
			hp.Workspace = workspace(a.Role)
		}
		return r.render(200, "home", r.L.T("home.title"), "home", hp)
	})
}

// needFilters are the filters of the needs list, from the query string.
type needFilters struct {
	Country, Theme, Capability, Status, Q, Sort, Cursor string
}

// clean drops filter values that are not codes, so a hand-edited URL shows a list, not an error.
func (f *needFilters) clean(signedIn bool) {
	f.Country = models.NormalizeISO(f.Country)
	if !models.ValidISO(f.Country) {
		f.Country = ""
	}
	if !models.Theme(f.Theme).Valid() {
		f.Theme = ""
	}
	if !models.Capability(f.Capability).Valid() {
		f.Capability = ""
	}
	if !signedIn || !validNeedStatus(f.Status) {
		f.Status = ""
		if !signedIn {
			f.Status = string(models.NeedOpen)
		}
	}
	if f.Sort != service.SortPriority {
		f.Sort = service.SortNewest
	}
	f.Q = strings.TrimSpace(f.Q)
	if len([]rune(f.Q)) > 200 {
		f.Q = string([]rune(f.Q)[:200])
	}
}

func validNeedStatus(s string) bool {
	for _, st := range needStatuses {
		if string(st) == s {
			return true
		}
	}
	return false
}

var needStatuses = []models.NeedStatus{models.NeedDraft, models.NeedSubmitted, models.NeedOpen, models.NeedMatched,
	models.NeedInProgress, models.NeedFulfilled, models.NeedWithdrawn}

// needsPage is the data of the needs list.
type needsPage struct {
	F         needFilters
	Items     []*models.Need
	Next      string
	Countries []option
	Groups    []capGroup
	Statuses  []models.NeedStatus
	SignedIn  bool
}

// Needs lists needs with filters: for visitors, the public open needs; for signed-in users,
// what the policy lets them see (open by default, any status on request).
func (u *UI) Needs() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		a := r.actor()
		f := needFilters{Country: r.c.Query("country"), Theme: r.c.Query("theme"), Capability: r.c.Query("capability"),
			Status: r.c.Query("status", string(models.NeedOpen)), Q: r.c.Query("q"), Sort: r.c.Query("sort"), Cursor: r.c.Query("cursor")}
		f.clean(a != nil)
		items, next, err := u.listNeeds(r, a, f)
		if err != nil {
			return err
		}
		p := &needsPage{F: f, Items: items, Groups: capGroups(), SignedIn: a != nil}
		if a != nil {
			p.Statuses = needStatuses
		}
		if next != "" {
			p.Next = string(queryURL("country", f.Country, "theme", f.Theme, "capability", f.Capability, "status", f.Status,
				"q", f.Q, "sort", f.Sort, "cursor", next))
		}
		var isos []string
		for _, cv := range u.app.Countries.List(r.c.UserContext(), a) {
			if cv.OpenNeeds > 0 || cv.ISO == f.Country {
				isos = append(isos, cv.ISO)
			}
		}
		p.Countries = countryOptions(r.L, isos)
		return r.render(200, "needs", r.L.T("needs.title"), "needs", p)
	})
}

// listNeeds runs the needs query as the viewer (a nil actor is an anonymous visitor: the
// service applies the public rule).
func (u *UI) listNeeds(r *req, a *models.Actor, f needFilters) ([]*models.Need, string, error) {
	return u.app.Needs.List(r.c.UserContext(), a, service.NeedListParams{Country: f.Country, Theme: f.Theme,
		Capability: f.Capability, Status: f.Status, Q: f.Q, Sort: f.Sort, Cursor: f.Cursor, Limit: listLimit})
}

// getNeed loads a need as the viewer may see it.
func (u *UI) getNeed(r *req, id string) (*models.Need, error) {
	return u.app.Needs.Get(r.c.UserContext(), r.actor(), id)
}

// needPage is the data of a need's page.
type needPage struct {
	N *models.Need
	// What the viewer may do to it now.
	CanEdit, CanSubmit, CanWithdraw, CanReview bool
	F                                          *form
	// Matches ranks the offers for the need, with every factor explained (signed-in viewers).
	Matches *matchList
}

// Need shows one need with the actions the viewer may take.
func (u *UI) Need() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		n, err := u.getNeed(r, r.c.Params("id"))
		if err != nil {
			return err
		}
		p := u.needActions(r, n, newForm())
		if rankable(n) {
			p.Matches = u.offersForNeed(r, n)
		}
		return r.render(200, "need", n.In(r.L.Lang).Title, "needs", p)
	})
}

func (u *UI) needActions(r *req, n *models.Need, f *form) *needPage {
	p := &needPage{N: n, F: f}
	a := r.actor()
	if a == nil {
		return p
	}
	can := func(t models.NeedTransition, act models.Action) bool {
		if _, err := n.Next(t); err != nil {
			return false
		}
		return models.AuthorizeNeed(a, act, n) == nil
	}
	p.CanSubmit = can(models.NeedSubmit, models.ActSubmit)
	p.CanWithdraw = can(models.NeedWithdraw, models.ActWithdraw)
	p.CanReview = can(models.NeedApprove, models.ActApprove)
	p.CanEdit = a.Role == models.RoleMinistry && models.AuthorizeNeed(a, models.ActUpdate, n) == nil && n.Editable(a) == nil
	return p
}

// offerFilters are the filters of the offers list. Org keeps the offers of one organization
// (the link from an offer's "offered by").
type offerFilters struct {
	Country, Theme, Status, Q, Org, Cursor string
}

// offersPage is the data of the offers list.
type offersPage struct {
	F         offerFilters
	Items     []*models.Offer
	Next      string
	Countries []option
	Themes    []models.Theme
	SignedIn  bool
	// OrgName names the organization of the Org filter.
	OrgName string
}

// Offers lists open offers (any status for signed-in users who ask), filtered by eligible
// country, theme and words.
func (u *UI) Offers() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		a := r.actor()
		f := offerFilters{Country: models.NormalizeISO(r.c.Query("country")), Theme: r.c.Query("theme"),
			Status: r.c.Query("status", string(models.OfferOpen)), Q: strings.TrimSpace(r.c.Query("q")), Org: r.c.Query("org"),
			Cursor: r.c.Query("cursor")}
		if !models.ValidISO(f.Country) {
			f.Country = ""
		}
		if !models.ValidID(f.Org) {
			f.Org = ""
		}
		if !models.Theme(f.Theme).Valid() {
			f.Theme = ""
		}
		switch models.OfferStatus(f.Status) {
		case models.OfferOpen, models.OfferClosed:
		case models.OfferDraft:
			if a == nil {
				f.Status = string(models.OfferOpen)
			}
		default:
			f.Status = ""
			if a == nil {
				f.Status = string(models.OfferOpen)
			}
		}
		if len([]rune(f.Q)) > 200 {
			f.Q = string([]rune(f.Q)[:200])
		}
		var items []*models.Offer
		var next string
		var err error
		items, next, err = u.app.Offers.List(r.c.UserContext(), a, service.OfferListParams{Country: f.Country, Theme: f.Theme,
			Status: f.Status, Q: f.Q, OrgID: f.Org, Cursor: f.Cursor, Limit: listLimit})
		if err != nil {
			return err
		}
		p := &offersPage{F: f, Items: items, Countries: countryOptions(r.L, allISOs()), Themes: models.Themes, SignedIn: a != nil}
		if f.Org != "" {
			p.OrgName = u.orgName(r.c.UserContext(), f.Org)
		}
		if next != "" {
			p.Next = string(queryURL("country", f.Country, "theme", f.Theme, "status", f.Status, "q", f.Q, "org", f.Org, "cursor", next))
		}
		return r.render(200, "offers", r.L.T("offers.title"), "offers", p)
	})
}

// getOffer loads an offer as the viewer may see it.
func (u *UI) getOffer(r *req, id string) (*models.Offer, error) {
	return u.app.Offers.Get(r.c.UserContext(), r.actor(), id)
}

// offerPage is the data of an offer's page.
type offerPage struct {
	O                             *models.Offer
	CanEdit, CanPublish, CanClose bool
	// Matches ranks the needs the offer fits, as the viewer may see them (open offers).
	Matches *matchList
}

// Offer shows one offer with the actions the viewer may take.
func (u *UI) Offer() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		o, err := u.getOffer(r, r.c.Params("id"))
		if err != nil {
			return err
		}
		p := &offerPage{O: o}
		if a := r.actor(); a != nil {
			_, pubErr := o.Next(models.OfferPublish)
			_, closeErr := o.Next(models.OfferClose)
			p.CanPublish = pubErr == nil && models.AuthorizeOffer(a, models.ActPublish, o) == nil
			p.CanClose = closeErr == nil && models.AuthorizeOffer(a, models.ActClose, o) == nil
			p.CanEdit = a.Role == models.RoleDonor && models.AuthorizeOffer(a, models.ActUpdate, o) == nil && o.Editable(a) == nil
			if o.Status == models.OfferOpen {
				p.Matches = u.needsForOffer(r, o)
			}
		}
		return r.render(200, "offer", o.In(r.L.Lang).Title, "offers", p)
	})
}

// countryRow is one line of the countries list.
type countryRow struct {
	service.CountryView
	Label string
}

// countriesPage is the data of the countries list.
type countriesPage struct {
	Region string
	Open   bool
	// All lists every ISO 3166-1 territory (Antarctica, Bouvet Island, ...), not only the UN's
	// member and observer states.
	All     bool
	Rows    []countryRow
	Regions []option
	// Sort and Desc are the column the table is sorted by and its direction (see sortCountries).
	Sort string
	Desc bool
}

// Countries lists the UN's member and observer states (every territory on request) with their
// open needs and requested funding, filtered by M49 region, sub-region or intermediate
// region, each linking to its profile.
func (u *UI) Countries() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		p := &countriesPage{Region: r.c.Query("region"), Open: r.c.Query("open") == "1", All: r.c.Query("all") == "1"}
		if _, ok := models.LookupRegion(p.Region); !ok {
			p.Region = ""
		}
		for _, cv := range u.app.Countries.List(r.c.UserContext(), r.actor()) {
			if p.Region != "" && !models.CountryInRegion(cv.ISO, p.Region) {
				continue
			}
			if p.Open && cv.OpenNeeds == 0 {
				continue
			}
			if !p.All && !cv.UNMember && !cv.UNObserver {
				continue
			}
			p.Rows = append(p.Rows, countryRow{CountryView: cv, Label: r.L.Country(cv.ISO)})
		}
		sortByName(r.L, p.Rows, func(c countryRow) string { return c.Label })
		p.Sort, p.Desc = sortCountries(p.Rows, r.c.Query("sort"), r.c.Query("dir"))
		p.Regions = regionOptions(r.L)
		return r.render(200, "countries", r.L.T("countries.title"), "countries", p)
	})
}

// regionOptions lists the UN M49 regions, sub-regions and intermediate regions (the codes an
// offer's eligibility uses: Western Africa, the Caribbean) as select options in tree order,
// each level indented under its parent, names sorted in the viewer's language.
func regionOptions(L *Localizer) []option {
	var out []option
	var walk func(ns []*regionNode, depth int)
	walk = func(ns []*regionNode, depth int) {
		for _, n := range ns {
			out = append(out, option{Value: n.Code, Label: strings.Repeat("\u00a0\u00a0\u00a0", depth) + n.Label})
			walk(n.Children, depth+1)
		}
	}
	walk(regionTree(L), 0)
	return out
}

// countryPage is the data of a country's profile.
type countryPage struct {
	C       *service.CountryView
	Label   string
	Needs   []*models.Need
	CanEdit bool
	// Updated is when the readiness was last updated, if ever.
	Updated string
	// Checks are the country's recent communication checks (outcomes for everyone; each
	// contact's result only for those who may see the contacts).
	Checks []service.CountryCheck
	// PoCs are the country's Points of Contact, for those who may see them (nil otherwise);
	// KeepPoCs says the viewer may change them.
	PoCs     *service.PoCList
	KeepPoCs bool
	// External lists what others already fund here, as published to IATI (signed-in
	// viewers): "already funded here".
	External []service.ExternalInCountry
	SignedIn bool
	// Profile is the sources, readiness history and self-assessment link (country_profile.go).
	Profile *countryProfile
}

// Country is a country's profile: where it sits in the UN M49 scheme, its readiness (Points
// of Contact, CERT, legal position, strategy), its open needs and requested funding.
func (u *UI) Country() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		a := r.actor()
		cv, err := u.app.Countries.Profile(r.c.UserContext(), a, r.c.Params("iso"))
		if err != nil {
			return err
		}
		if cv.ISO != r.c.Params("iso") {
			return r.c.Redirect("/countries/"+url.PathEscape(cv.ISO), fiber.StatusMovedPermanently)
		}
		items, _, err := u.listNeeds(r, a, needFilters{Country: cv.ISO, Status: string(models.NeedOpen), Sort: service.SortPriority})
		if err != nil {
			return err
		}
		p := &countryPage{C: cv, Label: r.L.Country(cv.ISO), Needs: items}
		if cv.ReadinessUpdatedAt != nil {
			p.Updated = r.L.Date(cv.ReadinessUpdatedAt)
		}
		p.CanEdit = a != nil && models.AuthorizeCountryReadiness(a, cv.ISO) == nil
		ctx := r.c.UserContext()
		if p.Checks, err = u.app.PoCChecks.CountryChecks(ctx, a, cv.ISO); err != nil {
			return err
		}
		if see, keep := u.app.PoCs.Access(ctx, a, cv.ISO); see {
			if p.PoCs, err = u.app.PoCs.List(ctx, a, cv.ISO); err != nil {
				return err
			}
			p.KeepPoCs = keep
		}
		if a != nil {
			p.SignedIn = true
			if p.External, err = u.app.ExternalActivitiesIn(r.c.UserContext(), a, cv.ISO); err != nil {
				return err
			}
		}
		if p.Profile, err = u.countryProfile(r, cv); err != nil {
			return err
		}
		return r.render(200, "country", p.Label, "countries", p)
	})
}

// regionNode is a node of the UN M49 tree for the eligible-regions picker.
type regionNode struct {
	Code     string
	Label    string
	Children []*regionNode
}

// regionTree builds the M49 tree (regions → sub-regions → intermediate regions) with
// localized, sorted names.
func regionTree(L *Localizer) []*regionNode {
	nodes := map[string]*regionNode{}
	var roots []*regionNode
	regions := models.Regions()
	for _, r := range regions {
		if r.Level == "world" {
			continue
		}
		nodes[r.Code] = &regionNode{Code: r.Code, Label: L.Label(models.KindRegion, r.Code)}
	}
	for _, r := range regions {
		n, ok := nodes[r.Code]
		if !ok {
			continue
		}
		if parent, ok := nodes[r.Parent]; ok && r.Level != "region" {
			parent.Children = append(parent.Children, n)
		} else if r.Level == "region" {
			roots = append(roots, n)
		}
	}
	var sortNodes func([]*regionNode)
	sortNodes = func(ns []*regionNode) {
		sortByName(L, ns, func(n *regionNode) string { return n.Label })
		for _, n := range ns {
			sortNodes(n.Children)
		}
	}
	sortNodes(roots)
	return roots
}

// mapTable returns the countries with a value, for the table under the map, sorted by their
// name in the viewer's language (Cambodia before Jamaica, Côte d'Ivoire among the Cs): the
// table is where a reader looks a country up, and the shading already shows the largest.
func mapTable(L *Localizer, rows []mapRow) []mapRow {
	out := make([]mapRow, 0, len(rows))
	for _, r := range rows {
		if r.Value > 0 {
			out = append(out, r)
		}
	}
	sortByName(L, out, func(r mapRow) string { return r.Label })
	return out
}
