// Package iati writes capmatch projects as an IATI 2.03 activity file, so that donors,
// aggregators such as d-portal and the OECD, and the countries themselves can read the
// cyber capacity-building projects capmatch tracks with the tools they already use.
//
// The output validates against the official iati-activities-schema.xsd: elements come in
// the order the schema's sequences require, every mandatory element is present (with a
// documented fallback when a project lacks the data), and all text goes through
// encoding/xml after characters that XML cannot carry have been dropped, so the document
// is always well-formed whatever users typed.
package iati

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/capmatch/capmatch/models"
)

// Version is the IATI standard version the writer produces, written on the root element
// so that readers pick the right schema and code lists.
const Version = "2.03"

// CataloguePath is the path of capmatch's catalogue, which lists every capability code with
// its label: the vocabulary-uri of the capability sector (vocabulary 99) is this path on the
// deployment's public address (Options.CatalogueURL).
const CataloguePath = "/api/v1/catalogue"

// PlaceholderRef is the reporting organisation identifier used until the deployment
// configures the publisher's registered one. It is not registered with IATI (the IATI
// Validator warns about it, rule 1.14.8), so a document written with it says so in a comment
// at its top.
const PlaceholderRef = "XM-CAPMATCH"

// ErrNoActivities is returned, before anything is written, when there is no project to
// export: the schema requires at least one iati-activity, so no valid document exists. It
// wraps models.ErrNotFound so that the HTTP layer can map it without knowing this package.
var ErrNoActivities = fmt.Errorf("iati: no activities to export: %w", models.ErrNotFound)

// Org describes an organisation as IATI needs it: its IATI identifier, its name and its
// IATI organisation type.
type Org struct {
	// Ref is the organisation's IATI organisation identifier, e.g. "XM-CAPMATCH" or
	// "GB-GOV-1"; empty when it has none.
	Ref string
	// Name is the organisation's name, written as a narrative.
	Name string
	// Type is the IATI OrganisationType code: "10" government, "21" international NGO,
	// "40" multilateral, "60" foundation, "70" private sector, ...
	Type string
	// Publishes says the organisation publishes its own activities to IATI. When a project's
	// funder does, capmatch re-publishes that funder's work and marks itself as a secondary
	// reporter, so that aggregators do not count the money twice.
	Publishes bool
}

// Options carries what a project does not know about itself: who publishes the file,
// how to name the organisations it refers to, and when the file is made.
type Options struct {
	// ReportingOrg is the publisher, capmatch's coordinating body (ref like
	// "XM-CAPMATCH"). Ref and Type are required; Name falls back to Ref.
	ReportingOrg Org
	// Orgs gives IATI refs, names and types by models organisation id, for
	// participating-org elements.
	Orgs map[string]Org
	// GeneratedAt is written as generated-datetime, and it is "now" for the rules that
	// compare dates with the present (transactions and actual dates must not be in the
	// future); the writer reads no clock, so that output is reproducible. The zero time omits
	// the attribute and applies no such rule.
	GeneratedAt time.Time
	// CatalogueURL is the vocabulary-uri of the capability sector: the absolute http(s) URL
	// of the catalogue (CataloguePath on the deployment's public address). Anything else
	// (empty, relative) leaves the attribute out: a relative URI means nothing to a reader
	// outside capmatch.
	CatalogueURL string
}

// Identifier returns the project's iati-identifier: p.IATIIdentifier when it is set (a
// donor's own identifier, or one fixed earlier), else "<reportingRef>-<project id>". It
// depends only on stored fields, so it is the same in every export, as IATI requires.
func Identifier(reportingRef string, p *models.Project) string {
	if id := clean(p.IATIIdentifier); id != "" {
		return id
	}
	return clean(reportingRef) + "-" + clean(p.ID)
}

// dac is one DAC 5-digit purpose code with its name in the Sector code list.
type dac struct{ code, name string }

// The DAC purpose codes capmatch uses; the OECD has no cyber code.
var (
	dacPublicSector  = dac{"15110", "Public sector policy and administrative management"}
	dacLegal         = dac{"15130", "Legal and judicial development"}
	dacCommsPolicy   = dac{"22010", "Communications policy and administrative management"}
	dacICT           = dac{"22040", "Information and communication technology (ICT)"}
	capabilityToDACs = map[models.Capability]dac{
		models.CapNationalStrategy:       dacPublicSector,
		models.CapNormsImplementation:    dacPublicSector,
		models.CapCBMImplementation:      dacPublicSector,
		models.CapPoCReadiness:           dacPublicSector,
		models.CapLegalPosition:          dacLegal,
		models.CapCybercrimeLegislation:  dacLegal,
		models.CapDigitalForensics:       dacLegal,
		models.CapLawEnforcementTraining: dacLegal,
		models.CapCERTSetup:              dacICT,
		models.CapCERTMaturity:           dacICT,
		models.CapCIIP:                   dacICT,
		models.CapCyberExercises:         dacICT,
		models.CapAwareness:              dacICT,
		models.CapWorkforceEducation:     dacICT,
		models.CapStandardsAdoption:      dacCommsPolicy,
	}
)

// DACCode returns the OECD DAC 5-digit purpose code (sector vocabulary 1) and its name
// for a capability, because the DAC list has no cyber code and every activity needs one
// that aggregators understand. The mapping (see README.md):
//
//   - national_strategy, norms_implementation, cbm_implementation, poc_readiness → 15110
//     Public sector policy and administrative management: strategy, diplomacy and
//     confidence building are whole-of-government policy work;
//   - legal_position, cybercrime_legislation, digital_forensics, law_enforcement_training
//     → 15130 Legal and judicial development, whose definition names legal drafting,
//     law enforcement agencies, police, judges and professional legal education; 15210
//     is about reforming the security system and its civilian oversight, which this
//     training and lawmaking is not;
//   - cert_setup, cert_maturity, ciip, cyber_exercises → 22040 Information and
//     communication technology (ICT);
//   - awareness, workforce_education → 22040 too: its definition covers IT training, and
//     cyber curricula and professional certifications reach beyond 11330 Vocational
//     training, which is elementary and secondary-level technical education;
//   - standards_adoption → 22010 Communications policy and administrative management.
//
// An unknown capability yields "", "".
func DACCode(c models.Capability) (code string, name string) {
	d := capabilityToDACs[c]
	return d.code, d.name
}

// Write writes projects as one iati-activities document, one activity per project (nil
// entries are skipped), in the order given. It returns ErrNoActivities when there is
// nothing to write, and an error wrapping models.ErrInvalid, before writing anything,
// when the options lack the reporting organisation or a project has no identifier.
//
// Data that would break the schema is left out rather than written: dates that are not
// real calendar dates, transactions of unknown type or without a valid date, documents
// whose URL is not an absolute http(s) URL. So is data the IATI Validator's rules refuse
// (see README.md): transactions dated after GeneratedAt (11.2.1, 11.2.2), actual dates
// after it (11.1.4). Mandatory elements get fallbacks: the title stands in for a missing
// description, the reporting organisation (as accountable, role 2) for missing
// participants, the date the project was recorded for missing activity dates, pipeline for
// an unknown status. The budget is split into calendar-year periods (7.5.3; see Budgets).
func Write(w io.Writer, projects []*models.Project, opts Options) error {
	if clean(opts.ReportingOrg.Ref) == "" || clean(opts.ReportingOrg.Type) == "" {
		return fmt.Errorf("iati: reporting organisation needs a ref and a type: %w", models.ErrInvalid)
	}
	var acts []activity
	for i, p := range projects {
		if p == nil {
			continue
		}
		a, err := newActivity(p, &opts)
		if err != nil {
			return fmt.Errorf("iati: project %d (%q): %w", i, clean(p.ID), err)
		}
		acts = append(acts, a)
	}
	if len(acts) == 0 {
		return ErrNoActivities
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("iati: write header: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	root := xml.StartElement{
		Name: xml.Name{Local: "iati-activities"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "version"}, Value: Version}},
	}
	if s, ok := dateTime(opts.GeneratedAt); ok {
		root.Attr = append(root.Attr, xml.Attr{Name: xml.Name{Local: "generated-datetime"}, Value: s})
	}
	if clean(opts.ReportingOrg.Ref) == PlaceholderRef {
		if err := enc.EncodeToken(xml.Comment(" reporting-org/@ref " + PlaceholderRef + " is a placeholder, not a registered " +
			"organisation identifier (IATI rule 1.14.8): configure the publisher's own (CAPMATCH_IATI_PUBLISHER_REF) before publishing this file ")); err != nil {
			return fmt.Errorf("iati: write comment: %w", err)
		}
	}
	if err := enc.EncodeToken(root); err != nil {
		return fmt.Errorf("iati: write root: %w", err)
	}
	for i := range acts {
		if err := enc.Encode(&acts[i]); err != nil {
			return fmt.Errorf("iati: write activity %q: %w", acts[i].Identifier, err)
		}
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return fmt.Errorf("iati: close root: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("iati: flush: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("iati: write trailer: %w", err)
	}
	return nil
}

// activity is one iati-activity; field order is the schema's element order.
type activity struct {
	XMLName         xml.Name `xml:"iati-activity"`
	LastUpdated     string   `xml:"last-updated-datetime,attr,omitempty"`
	Lang            string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	DefaultCurrency string   `xml:"default-currency,attr"`
	Hierarchy       string   `xml:"hierarchy,attr"`

	// The fields follow the iati-activity xsd:sequence; do not reorder.
	Identifier   string             `xml:"iati-identifier"`
	ReportingOrg reportingOrg       `xml:"reporting-org"`
	Title        text               `xml:"title"`
	Description  description        `xml:"description"`
	Participants []participatingOrg `xml:"participating-org"`
	Status       codeElem           `xml:"activity-status"`
	Dates        []activityDate     `xml:"activity-date"`
	Countries    []recipientCountry `xml:"recipient-country"`
	Sectors      []sector           `xml:"sector"`
	Budgets      []budget           `xml:"budget"`
	Transactions []transaction      `xml:"transaction"`
	Documents    []documentLink     `xml:"document-link"`
	Results      []result           `xml:"result"`
}

// narrative is a piece of human-readable text, in the activity's language.
type narrative struct {
	Text string `xml:",chardata"`
}

// text is an element made of narratives (title, description without type, ...).
type text struct {
	Narratives []narrative `xml:"narrative"`
}

func textOf(s string) text { return text{Narratives: []narrative{{Text: s}}} }

// description is the activity description; type 1 is the general description.
type description struct {
	Type       string      `xml:"type,attr,omitempty"`
	Narratives []narrative `xml:"narrative"`
}

type reportingOrg struct {
	Ref               string      `xml:"ref,attr"`
	Type              string      `xml:"type,attr"`
	SecondaryReporter string      `xml:"secondary-reporter,attr,omitempty"`
	Narratives        []narrative `xml:"narrative"`
}

type participatingOrg struct {
	Ref        string      `xml:"ref,attr,omitempty"`
	Type       string      `xml:"type,attr,omitempty"`
	Role       string      `xml:"role,attr"`
	Narratives []narrative `xml:"narrative"`
}

// codeElem is an element whose only content is a code attribute.
type codeElem struct {
	Code string `xml:"code,attr"`
}

// dateElem is an element whose only content is an iso-date attribute.
type dateElem struct {
	ISODate string `xml:"iso-date,attr"`
}

type activityDate struct {
	Type    string `xml:"type,attr"`
	ISODate string `xml:"iso-date,attr"`
}

type recipientCountry struct {
	Code       string      `xml:"code,attr"`
	Percentage string      `xml:"percentage,attr,omitempty"`
	Narratives []narrative `xml:"narrative"`
}

type sector struct {
	Vocabulary    string      `xml:"vocabulary,attr,omitempty"`
	VocabularyURI string      `xml:"vocabulary-uri,attr,omitempty"`
	Code          string      `xml:"code,attr"`
	Percentage    string      `xml:"percentage,attr,omitempty"`
	Narratives    []narrative `xml:"narrative"`
}

// value is an amount in whole US dollars with the date its exchange rate applies.
type value struct {
	Currency  string `xml:"currency,attr,omitempty"`
	ValueDate string `xml:"value-date,attr"`
	Amount    int64  `xml:",chardata"`
}

type budget struct {
	Type   string   `xml:"type,attr"`
	Status string   `xml:"status,attr"`
	Start  dateElem `xml:"period-start"`
	End    dateElem `xml:"period-end"`
	Value  value    `xml:"value"`
}

type transaction struct {
	Ref         string   `xml:"ref,attr,omitempty"`
	Type        codeElem `xml:"transaction-type"`
	Date        dateElem `xml:"transaction-date"`
	Value       value    `xml:"value"`
	Description *text    `xml:"description"`
}

type documentLink struct {
	URL       string     `xml:"url,attr"`
	Format    string     `xml:"format,attr"`
	Title     text       `xml:"title"`
	Category  codeElem   `xml:"category"`
	Languages []codeElem `xml:"language"`
}

type result struct {
	Type        string      `xml:"type,attr"`
	Title       text        `xml:"title"`
	Description *text       `xml:"description"`
	Indicators  []indicator `xml:"indicator"`
}

type indicator struct {
	Measure   string     `xml:"measure,attr"`
	Title     text       `xml:"title"`
	Baselines []baseline `xml:"baseline"`
	Periods   []period   `xml:"period"`
}

type baseline struct {
	Year    int    `xml:"year,attr"`
	ISODate string `xml:"iso-date,attr,omitempty"`
	Value   string `xml:"value,attr,omitempty"`
}

type valueAttr struct {
	Value string `xml:"value,attr"`
}

type period struct {
	Start   dateElem    `xml:"period-start"`
	End     dateElem    `xml:"period-end"`
	Targets []valueAttr `xml:"target"`
	Actuals []valueAttr `xml:"actual"`
}

// newActivity maps one project onto the activity structure.
func newActivity(p *models.Project, opts *Options) (activity, error) {
	if clean(p.IATIIdentifier) == "" && clean(p.ID) == "" {
		return activity{}, fmt.Errorf("no id and no iati identifier: %w", models.ErrInvalid)
	}
	rep := opts.ReportingOrg
	ident := Identifier(rep.Ref, p)
	a := activity{
		Lang:            "en",
		DefaultCurrency: "USD",
		Hierarchy:       "1",
		Identifier:      ident,
		ReportingOrg: reportingOrg{
			Ref:        clean(rep.Ref),
			Type:       clean(rep.Type),
			Narratives: []narrative{{Text: firstNonEmpty(clean(rep.Name), clean(rep.Ref))}},
		},
	}
	if s, ok := dateTime(p.UpdatedAt); ok {
		a.LastUpdated = s
	}
	// Re-publishing an activity under someone else's identifier, or one whose funder
	// publishes its own IATI data, makes capmatch a secondary reporter.
	if !strings.HasPrefix(ident, clean(rep.Ref)+"-") || funderPublishes(p, opts) {
		a.ReportingOrg.SecondaryReporter = "1"
	}

	title := clean(p.Title)
	if title == "" {
		title = firstNonEmpty(capabilityLabel(p.Capability), ident)
	}
	a.Title = textOf(title)
	a.Description = description{Type: "1", Narratives: []narrative{{Text: firstNonEmpty(clean(p.Description), title)}}}

	a.Participants = participants(p, opts)
	a.Status = codeElem{Code: statusCode(p.Status)}

	dates, err := activityDates(p, today(opts))
	if err != nil {
		return activity{}, err
	}
	a.Dates = dates

	if c := clean(p.Country); c != "" {
		rc := recipientCountry{Code: c, Percentage: "100"}
		if name := models.Label("en", models.KindCountry, c); name != c {
			rc.Narratives = []narrative{{Text: clean(name)}}
		}
		a.Countries = []recipientCountry{rc}
	}

	// One sector per vocabulary, each at 100%: IATI sums percentages per vocabulary.
	if code, name := DACCode(p.Capability); code != "" {
		a.Sectors = []sector{
			{Vocabulary: "1", Code: code, Percentage: "100", Narratives: []narrative{{Text: name}}},
			{
				Vocabulary:    "99",
				VocabularyURI: absoluteURL(opts.CatalogueURL),
				Code:          string(p.Capability),
				Percentage:    "100",
				Narratives:    []narrative{{Text: capabilityLabel(p.Capability)}},
			},
		}
	}

	start, end, spanOK := span(p)
	if p.BudgetUSD > 0 && spanOK {
		status := "1" // indicative
		if f := p.Funding(); f.Committed >= f.Budget {
			status = "2" // committed: commitments cover the whole budget
		}
		for _, b := range Budgets(models.Date(start), models.Date(end), p.BudgetUSD) {
			a.Budgets = append(a.Budgets, budget{
				Type:   "1",
				Status: status,
				Start:  dateElem{string(b.Start)},
				End:    dateElem{string(b.End)},
				Value:  value{Currency: "USD", ValueDate: string(b.Start), Amount: b.AmountUSD},
			})
		}
	}

	now := today(opts)
	for _, t := range p.Transactions {
		code, ok := TransactionCode(t.Type)
		d, dok := isoDate(t.Date)
		if !ok || !dok || (now != "" && d > now) {
			continue // a future-dated transaction is not one yet (rules 11.2.1, 11.2.2)
		}
		tx := transaction{
			Ref:   clean(t.ID),
			Type:  codeElem{code},
			Date:  dateElem{d},
			Value: value{Currency: "USD", ValueDate: d, Amount: t.AmountUSD},
		}
		if desc := clean(t.Description); desc != "" {
			x := textOf(desc)
			tx.Description = &x
		}
		a.Transactions = append(a.Transactions, tx)
	}

	for _, d := range p.Documents {
		if dl, ok := documentLinkOf(d); ok {
			a.Documents = append(a.Documents, dl)
		}
	}

	for _, r := range p.Results {
		a.Results = append(a.Results, resultOf(r, start, end, spanOK))
	}
	return a, nil
}

// TransactionCode returns the IATI TransactionType code of a capmatch transaction type,
// so that exports and anything else speaking IATI agree: commitment 2 (outgoing
// commitment), disbursement 3, expenditure 4, pledge 12 (outgoing pledge; 13 is the
// incoming pledge in the 2.03 code list). ok is false for an unknown type.
func TransactionCode(t models.TransactionType) (code string, ok bool) {
	switch t {
	case models.TxCommitment:
		return "2", true
	case models.TxDisbursement:
		return "3", true
	case models.TxExpenditure:
		return "4", true
	case models.TxPledge:
		return "12", true
	}
	return "", false
}

// participants lists the project's organisations; without any it derives them from the
// donor and implementer ids, and failing that names the reporting organisation as
// accountable, because the schema requires at least one participating-org.
func participants(p *models.Project, opts *Options) []participatingOrg {
	var out []participatingOrg
	add := func(orgID, name, typ string, role models.OrgRole) {
		o := opts.Orgs[orgID]
		po := participatingOrg{
			Ref:  clean(o.Ref),
			Type: firstNonEmpty(clean(typ), clean(o.Type)),
			Role: strconv.Itoa(int(role)),
		}
		if n := firstNonEmpty(clean(name), clean(o.Name)); n != "" {
			po.Narratives = []narrative{{Text: n}}
		}
		if role < models.RoleFunding || role > models.RoleImplementing || (po.Ref == "" && po.Narratives == nil) {
			return // an unknown role or a nameless organisation says nothing to a reader
		}
		out = append(out, po)
	}
	for _, pt := range p.Participants {
		add(pt.OrganizationID, pt.Name, pt.Type, pt.Role)
	}
	if len(out) == 0 {
		if p.DonorOrgID != "" {
			add(p.DonorOrgID, "", "", models.RoleFunding)
		}
		if p.ImplementerID != "" {
			add(p.ImplementerID, "", "", models.RoleImplementing)
		}
	}
	if len(out) == 0 {
		rep := opts.ReportingOrg
		out = append(out, participatingOrg{
			Ref:        clean(rep.Ref),
			Type:       clean(rep.Type),
			Role:       strconv.Itoa(int(models.RoleAccountable)),
			Narratives: []narrative{{Text: firstNonEmpty(clean(rep.Name), clean(rep.Ref))}},
		})
	}
	return out
}

// statusCode returns the IATI activity status code, pipeline for an unknown status.
func statusCode(s models.ActivityStatus) string {
	if s < models.StatusPipeline || s > models.StatusSuspended {
		s = models.StatusPipeline
	}
	return strconv.Itoa(int(s))
}

// activityDates lists the valid dates: 1 planned start, 2 actual start, 3 planned end,
// 4 actual end; with none it uses the day the project was recorded as planned start. An
// actual date after now (rule 11.1.4; the service refuses them, older data may hold one)
// has not happened: an actual start is written as the planned start when the project has
// none, an actual end is left out. A project in pipeline has not started, so its actual
// dates are left out too.
func activityDates(p *models.Project, now string) ([]activityDate, error) {
	future := func(d string) bool { return now != "" && d > now }
	plannedStart, actualStart, actualEnd := p.PlannedStart, p.ActualStart, p.ActualEnd
	if s, ok := isoDate(actualStart); ok && (future(s) || p.Status == models.StatusPipeline) {
		if !plannedStart.Valid() {
			plannedStart = actualStart
		}
		actualStart = ""
	}
	if s, ok := isoDate(actualEnd); ok && (future(s) || p.Status == models.StatusPipeline) {
		actualEnd = ""
	}
	var out []activityDate
	for _, d := range []struct {
		typ  string
		date models.Date
	}{{"1", plannedStart}, {"2", actualStart}, {"3", p.PlannedEnd}, {"4", actualEnd}} {
		if s, ok := isoDate(d.date); ok {
			out = append(out, activityDate{Type: d.typ, ISODate: s})
		}
	}
	if len(out) == 0 {
		s, ok := isoDate(models.DateOf(p.CreatedAt))
		if p.CreatedAt.IsZero() || !ok {
			return nil, fmt.Errorf("no valid date to write as activity-date: %w", models.ErrInvalid)
		}
		out = append(out, activityDate{Type: "1", ISODate: s})
	}
	return out, nil
}

// today is the date rules compare with the present: GeneratedAt's, "" when it is not set.
func today(opts *Options) string {
	if opts.GeneratedAt.IsZero() {
		return ""
	}
	s, _ := isoDate(models.DateOf(opts.GeneratedAt))
	return s
}

// funderPublishes reports whether an organisation funding the project (a participant in
// role 1, or its donor) publishes its own IATI data.
func funderPublishes(p *models.Project, opts *Options) bool {
	if o, ok := opts.Orgs[p.DonorOrgID]; ok && p.DonorOrgID != "" && o.Publishes {
		return true
	}
	for _, pt := range p.Participants {
		if o, ok := opts.Orgs[pt.OrganizationID]; ok && pt.Role == models.RoleFunding && o.Publishes {
			return true
		}
	}
	return false
}

// absoluteURL returns s when it is an absolute http(s) URL, else "".
func absoluteURL(s string) string {
	u, err := url.Parse(clean(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// BudgetPeriod is one period of a project's budget and the whole dollars allocated to it.
type BudgetPeriod struct {
	Start, End models.Date
	AmountUSD  int64
}

// Budgets splits a budget over start..end (inclusive) into calendar-year periods, because
// IATI budgets must not cover more than a year each (IATI Validator rule 7.5.3) and
// calendar years are what aggregators and most recipient budget cycles group by: the first
// period runs from start to 31 December, whole years follow, the last runs from 1 January
// to end; a project within one year gets one period. Each period gets the share of the
// amount that its number of days is of the whole span (pro rata by days), in whole dollars
// that sum exactly to amount: every period gets the floor of its share, and the dollars
// left over go one each to the periods with the largest remainders (the earlier period on a
// tie). Nil when the dates are not valid, out of order, or the amount is not positive.
func Budgets(start, end models.Date, amount int64) []BudgetPeriod {
	s, ok1 := start.Time()
	e, ok2 := end.Time()
	if !ok1 || !ok2 || e.Before(s) || amount <= 0 {
		return nil
	}
	var out []BudgetPeriod
	var days []int64
	var total int64
	for from := s; !from.After(e); {
		to := time.Date(from.Year(), 12, 31, 0, 0, 0, 0, time.UTC)
		if to.After(e) {
			to = e
		}
		n := int64(to.Sub(from).Hours()/24) + 1
		out = append(out, BudgetPeriod{Start: models.DateOf(from), End: models.DateOf(to)})
		days = append(days, n)
		total += n
		from = to.AddDate(0, 0, 1)
	}
	// amount < 10^10 and total < 4 × 10^6 days: the products fit in an int64.
	left := amount
	rem := make([]int64, len(out))
	for i := range out {
		share := amount * days[i]
		out[i].AmountUSD = share / total
		rem[i] = share % total
		left -= out[i].AmountUSD
	}
	for ; left > 0; left-- {
		best := -1
		for i := range rem {
			if rem[i] >= 0 && (best < 0 || rem[i] > rem[best]) {
				best = i
			}
		}
		out[best].AmountUSD++
		rem[best] = -1
	}
	return out
}

// span returns the project's period for budgets and result periods: the planned dates,
// falling back to the actual ones; ok is false when there is no valid, ordered pair.
func span(p *models.Project) (start, end string, ok bool) {
	s, sok := isoDate(p.PlannedStart)
	if !sok {
		s, sok = isoDate(p.ActualStart)
	}
	e, eok := isoDate(p.PlannedEnd)
	if !eok {
		e, eok = isoDate(p.ActualEnd)
	}
	if !sok || !eok || e < s {
		return "", "", false
	}
	return s, e, true
}

// documentFormats maps file extensions to IATI FileFormat (MIME) codes; anything else is
// taken to be a web page.
var documentFormats = map[string]string{
	".pdf":  "application/pdf",
	".doc":  "application/msword",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls":  "application/vnd.ms-excel",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".ppt":  "application/vnd.ms-powerpoint",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".odt":  "application/vnd.oasis.opendocument.text",
	".ods":  "application/vnd.oasis.opendocument.spreadsheet",
	".csv":  "text/csv",
	".txt":  "text/plain",
	".json": "application/json",
	".xml":  "application/xml",
	".zip":  "application/zip",
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
}

// documentLinkOf maps a document; ok is false when its URL is not absolute http(s).
func documentLinkOf(d models.Document) (documentLink, bool) {
	u, err := url.Parse(clean(d.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return documentLink{}, false
	}
	format := documentFormats[strings.ToLower(path.Ext(u.Path))]
	if format == "" {
		format = "text/html"
	}
	dl := documentLink{
		URL:      u.String(),
		Format:   format,
		Title:    textOf(firstNonEmpty(clean(d.Title), u.String())),
		Category: codeElem{firstNonEmpty(clean(d.Category), "A12")}, // A12 activity web page
	}
	if l := clean(d.Language); l != "" {
		dl.Languages = []codeElem{{l}}
	}
	return dl, true
}

// resultOf maps a result with one indicator (the schema requires one): unit measure (1)
// with baseline and a target/actual period when the result has numbers, qualitative (5)
// otherwise.
func resultOf(r models.Result, start, end string, spanOK bool) result {
	typ := "9" // other
	switch r.Type {
	case models.ResultOutput:
		typ = "1"
	case models.ResultOutcome:
		typ = "2"
	}
	title := clean(r.Title)
	if title == "" {
		title = "Result"
		if r.Type == models.ResultOutcome {
			title = "Outcome"
		} else if r.Type == models.ResultOutput {
			title = "Output"
		}
	}
	out := result{Type: typ, Title: textOf(title)}
	if desc := clean(r.Description); desc != "" {
		x := textOf(desc)
		out.Description = &x
	}
	ind := indicator{Measure: "5", Title: textOf(title)}
	if r.Baseline != nil || r.Target != nil || r.Achieved != nil {
		ind.Measure = "1"
	}
	if r.Baseline != nil && spanOK {
		year, _ := strconv.Atoi(start[:4])
		ind.Baselines = []baseline{{Year: year, ISODate: start, Value: strconv.Itoa(*r.Baseline)}}
	}
	if (r.Target != nil || r.Achieved != nil) && spanOK {
		pd := period{Start: dateElem{start}, End: dateElem{end}}
		if r.Target != nil {
			pd.Targets = []valueAttr{{strconv.Itoa(*r.Target)}}
		}
		if r.Achieved != nil {
			pd.Actuals = []valueAttr{{strconv.Itoa(*r.Achieved)}}
		}
		ind.Periods = []period{pd}
	}
	out.Indicators = []indicator{ind}
	return out
}

// capabilityLabel is the English catalogue label of a capability, "" for an empty one.
func capabilityLabel(c models.Capability) string {
	if c == "" {
		return ""
	}
	return clean(models.Label("en", models.KindCapability, string(c)))
}

// isoDate returns d as an xsd:date; ok is false unless it is a real date in years 1-9999
// (xsd:date has no year 0).
func isoDate(d models.Date) (string, bool) {
	t, ok := d.Time()
	if !ok || t.Year() < 1 {
		return "", false
	}
	return string(d), true
}

// dateTime returns t in UTC as an xsd:dateTime; ok is false for the zero time and for
// years xsd cannot write in four digits.
func dateTime(t time.Time) (string, bool) {
	if t.IsZero() {
		return "", false
	}
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return "", false
	}
	return t.Format("2006-01-02T15:04:05Z07:00"), true
}

// clean makes s safe to carry in XML and tidy to read: it drops invalid UTF-8, control
// characters other than tab and newline (CR and CRLF become newline, as XML parsers would
// read them), code points XML 1.0 forbids (U+FFFE, U+FFFF), and trims surrounding space.
func clean(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			// invalid UTF-8: drop
		case r == '\r':
			b.WriteByte('\n')
		case r == '\t' || r == '\n':
			b.WriteRune(r)
		case unicode.IsControl(r), !xmlChar(r):
			// drop
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// xmlChar reports whether r is in XML 1.0's Char production.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Exporter is the models.ActivityExporter port on Write: it publishes as Publisher (the
// coordinating body's registered reference; DefaultPublisher, a documented placeholder, until
// the deployment configures its own) and names each organization by its IATI reference and
// type, marking the funders that publish their own data.
type Exporter struct {
	Publisher Org
}

// DefaultPublisher is capmatch's identity as the publisher of IATI exports until the deployment
// configures its own (CAPMATCH_IATI_PUBLISHER_REF, _NAME, _TYPE): the ref is a documented
// placeholder (PlaceholderRef), and every export says so.
var DefaultPublisher = Org{Ref: PlaceholderRef, Name: "capmatch coordination desk", Type: "40"}

// publisher returns the configured publisher, or DefaultPublisher, filling a missing name or
// type from it.
func (x Exporter) publisher() Org {
	if x.Publisher.Ref == "" {
		return DefaultPublisher
	}
	p := x.Publisher
	if p.Name == "" {
		p.Name = DefaultPublisher.Name
	}
	if p.Type == "" {
		p.Type = DefaultPublisher.Type
	}
	return p
}

// Export implements models.ActivityExporter.
func (x Exporter) Export(w io.Writer, projects []*models.Project, orgs map[string]*models.Organization, generatedAt time.Time, baseURL string) error {
	byID := make(map[string]Org, len(orgs))
	for id, o := range orgs {
		typ := o.IATIType
		if typ == "" && o.Type == models.OrgGovernment {
			typ = "10"
		}
		byID[id] = Org{Ref: o.IATIRef, Name: o.Name, Type: typ, Publishes: o.PublishesIATI}
	}
	return Write(w, projects, Options{ReportingOrg: x.publisher(), Orgs: byID, GeneratedAt: generatedAt,
		CatalogueURL: strings.TrimRight(baseURL, "/") + CataloguePath})
}

// Identifier implements models.ActivityExporter.
func (x Exporter) Identifier(p *models.Project) string { return Identifier(x.publisher().Ref, p) }

// ValidOrgType implements models.ActivityExporter.
func (Exporter) ValidOrgType(code string) bool { return InCodelist("OrganisationType", code) }
