package demo

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capmatch/capmatch/models"
)

// testToday is a fixed date for the tests; TestBuildOnOtherDates checks others.
const testToday models.Date = "2026-05-17"

func orgIndex(d Data) map[string]models.Organization {
	m := make(map[string]models.Organization, len(d.Orgs))
	for _, o := range d.Orgs {
		m[o.ID] = o
	}
	return m
}

func TestNeedsAndOffersValidate(t *testing.T) {
	d := Build(testToday)
	for i := range d.Needs {
		n := d.Needs[i]
		before := n
		n.Normalize()
		assert.Equal(t, before.Title, n.Title, "%s: title needs no cleaning", n.ID)
		assert.NoError(t, n.Validate(), n.ID)
	}
	for i := range d.Offers {
		o := d.Offers[i]
		o.Normalize()
		assert.NoError(t, o.Validate(), o.ID)
	}
}

// TestDemoTranslations: every translation the demo carries belongs to a demo need.
func TestDemoTranslations(t *testing.T) {
	d := Build(testToday)
	translated := 0
	for _, n := range d.Needs {
		assert.Equal(t, "en", n.Lang, n.ID)
		if len(n.Translations) > 0 {
			translated++
		}
	}
	assert.Equal(t, len(needTranslations), translated, "each translation is some need's")
}

func TestCounts(t *testing.T) {
	d := Build(testToday)
	assert.Len(t, d.Needs, 60)
	assert.Len(t, d.Offers, 25)

	countries := map[string]bool{}
	regions := map[string]bool{}
	themes := map[models.Theme]int{}
	capCount := map[models.Capability]int{}
	status := map[models.NeedStatus]int{}
	vis := map[models.Visibility]int{}
	for _, n := range d.Needs {
		countries[n.Country] = true
		c, _ := models.LookupCountry(n.Country)
		regions[c.RegionCode] = true
		themes[n.Theme]++
		capCount[n.Capability]++
		status[n.Status]++
		vis[n.Visibility]++
	}
	assert.GreaterOrEqual(t, len(countries), 30, "countries with needs")
	for _, r := range []string{"002", "009", "019", "142", "150"} {
		assert.True(t, regions[r], "needs from M49 region %s", r)
	}
	for _, th := range models.Themes {
		assert.Positive(t, themes[th], "theme %s covered", th)
	}
	for _, c := range models.Capabilities {
		assert.Positive(t, capCount[c], "capability %s covered", c)
	}
	for _, c := range []models.Capability{models.CapLegalPosition, models.CapCERTSetup, models.CapPoCReadiness} {
		assert.GreaterOrEqual(t, capCount[c], 6, "many %s needs", c)
	}
	assert.Greater(t, status[models.NeedOpen], len(d.Needs)/2, "mostly open")
	assert.Positive(t, status[models.NeedSubmitted])
	assert.Positive(t, status[models.NeedDraft])
	assert.Equal(t, len(d.Needs), status[models.NeedOpen]+status[models.NeedSubmitted]+status[models.NeedDraft])
	assert.Greater(t, vis[models.VisibilityPublic], len(d.Needs)/2, "mostly public")
	assert.Positive(t, vis[models.VisibilityDonors])
	assert.Positive(t, vis[models.VisibilityRestricted])
	assert.Less(t, vis[models.VisibilityRestricted], vis[models.VisibilityDonors], "only a few restricted")

	offerStatus := map[models.OfferStatus]int{}
	for _, o := range d.Offers {
		offerStatus[o.Status]++
	}
	assert.Greater(t, offerStatus[models.OfferOpen], 20)
	assert.Positive(t, offerStatus[models.OfferDraft])
	assert.Equal(t, len(d.Offers), offerStatus[models.OfferOpen]+offerStatus[models.OfferDraft])

	byType := map[models.OrgType]int{}
	for _, o := range d.Orgs {
		byType[o.Type]++
	}
	assert.GreaterOrEqual(t, byType[models.OrgGovernment], 30)
	assert.GreaterOrEqual(t, byType[models.OrgDonor], 10)
	assert.Equal(t, 2, byType[models.OrgImplementer])
	assert.Equal(t, 1, byType[models.OrgCoordinator])

	roles := map[models.Role]int{}
	for _, a := range d.Accounts {
		roles[a.Role]++
	}
	assert.GreaterOrEqual(t, roles[models.RoleMinistry], 4)
	assert.GreaterOrEqual(t, roles[models.RoleDonor], 3)
	assert.GreaterOrEqual(t, roles[models.RoleCoordinator], 1)
	assert.GreaterOrEqual(t, roles[models.RoleAdmin], 1)
}

func TestUniqueIDsAndEmails(t *testing.T) {
	d := Build(testToday)
	seen := map[string]bool{}
	unique := func(kind, id string) {
		t.Helper()
		assert.NotEmpty(t, id, kind)
		assert.False(t, seen[kind+":"+id], "duplicate %s %q", kind, id)
		seen[kind+":"+id] = true
	}
	for _, o := range d.Orgs {
		unique("org", o.ID)
		unique("org name", o.Name)
	}
	for _, n := range d.Needs {
		unique("need", n.ID)
		unique("need title", n.Title)
	}
	for _, o := range d.Offers {
		unique("offer", o.ID)
		unique("offer title", o.Title)
	}
	for _, a := range d.Accounts {
		unique("email", strings.ToLower(a.Email))
	}
	for _, p := range d.Readiness {
		unique("readiness", p.ISO)
	}
}

func TestOwnership(t *testing.T) {
	d := Build(testToday)
	orgs := orgIndex(d)
	govByCountry := map[string]int{}
	for _, o := range d.Orgs {
		if o.Type == models.OrgGovernment {
			_, ok := models.LookupCountry(o.Country)
			assert.True(t, ok, "%s: known country %q", o.ID, o.Country)
			govByCountry[o.Country]++
		}
		assert.Equal(t, int64(1), o.Version)
	}
	for iso, n := range govByCountry {
		assert.Equal(t, 1, n, "one government organisation for %s", iso)
	}
	for _, n := range d.Needs {
		org, ok := orgs[n.OrganizationID]
		if assert.True(t, ok, "%s: organisation %s exists", n.ID, n.OrganizationID) {
			assert.Equal(t, models.OrgGovernment, org.Type, n.ID)
			assert.Equal(t, n.Country, org.Country, n.ID)
		}
		assert.True(t, strings.HasPrefix(n.ID, "need-"+strings.ToLower(n.Country)+"-"), n.ID)
	}
	for _, o := range d.Offers {
		org, ok := orgs[o.OrganizationID]
		if assert.True(t, ok, "%s: organisation %s exists", o.ID, o.OrganizationID) {
			assert.True(t, models.RoleDonor.FitsOrg(org.Type), "%s: posted by a donor or implementer", o.ID)
		}
	}
}

func TestAccounts(t *testing.T) {
	d := Build(testToday)
	orgs := orgIndex(d)
	for _, a := range d.Accounts {
		org, ok := orgs[a.OrgKey]
		if !assert.True(t, ok, "%s: organisation %s exists", a.Email, a.OrgKey) {
			continue
		}
		assert.True(t, a.Role.Valid(), a.Email)
		assert.True(t, a.Role.FitsOrg(org.Type), "%s: role %s fits a %s organisation", a.Email, a.Role, org.Type)
		assert.GreaterOrEqual(t, len(a.Password), 12, a.Email)
		assert.True(t, strings.HasPrefix(a.Password, "demo-"), "%s: password says it is a demo one", a.Email)
		assert.True(t, strings.HasSuffix(a.Email, ".example"), "%s: reserved domain", a.Email)
		assert.NotEmpty(t, a.Name, a.Email)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := Build(testToday), Build(testToday)
	assert.Equal(t, a, b)

	// Results share no slices: changing one leaves the next untouched.
	a.Needs[0].Languages[0] = "xx"
	a.Offers[0].EligibleRegions = append(a.Offers[0].EligibleRegions, "002")
	a.Offers[0].Languages[0] = "xx"
	c := Build(testToday)
	assert.Equal(t, b, c)

	ja, err := json.Marshal(Build(testToday))
	require.NoError(t, err)
	jb, err := json.Marshal(Build(testToday))
	require.NoError(t, err)
	assert.JSONEq(t, string(ja), string(jb))
}

func TestBuildOnOtherDates(t *testing.T) {
	for _, day := range []models.Date{"2026-01-31", "2027-12-31", "2028-02-29", "not a date", ""} {
		d := Build(day)
		require.Len(t, d.Needs, 60, day)
		for i := range d.Needs {
			assert.NoError(t, d.Needs[i].Validate(), "%s %s", day, d.Needs[i].ID)
		}
		for i := range d.Offers {
			assert.NoError(t, d.Offers[i].Validate(), "%s %s", day, d.Offers[i].ID)
		}
	}
	assert.Equal(t, Build(fallbackToday), Build("31/12/2026"), "an invalid date falls back to a fixed one")
}

func TestDatesRelativeToToday(t *testing.T) {
	for _, today := range []models.Date{testToday, "2026-01-31", "2027-08-01"} {
		d := Build(today)
		now, _ := today.Time()
		midnight := now.UTC()
		for _, n := range d.Needs {
			start, ok := n.StartBy.Time()
			require.True(t, ok, n.ID)
			assert.False(t, start.Before(now.AddDate(0, 1, 0)), "%s: start_by %s at least a month after %s", n.ID, n.StartBy, today)
			assert.False(t, start.After(now.AddDate(0, 9, 0)), "%s: start_by %s within nine months of %s", n.ID, n.StartBy, today)
			assert.GreaterOrEqual(t, n.DurationMonths, 3, n.ID)
			assert.LessOrEqual(t, n.DurationMonths, 36, n.ID)
			assert.True(t, n.CreatedAt.Before(midnight), "%s: created in the past", n.ID)
			assert.False(t, n.UpdatedAt.Before(n.CreatedAt), n.ID)
			assert.True(t, n.UpdatedAt.Before(midnight), "%s: updated in the past", n.ID)
			assert.True(t, n.CreatedAt.After(midnight.AddDate(0, -3, 0)), "%s: created in the past weeks", n.ID)
			assert.Equal(t, int64(1), n.Version, n.ID)
		}
		for _, o := range d.Offers {
			from, ok1 := o.AvailableFrom.Time()
			until, ok2 := o.AvailableUntil.Time()
			require.True(t, ok1 && ok2, o.ID)
			window := until.AddDate(0, 0, 1).Sub(from)
			assert.GreaterOrEqual(t, window, 365*24*time.Hour, "%s: window of at least a year", o.ID)
			assert.LessOrEqual(t, window, (3*366)*24*time.Hour, "%s: window of at most three years", o.ID)
			assert.True(t, until.After(now), "%s: still available", o.ID)
			assert.True(t, o.CreatedAt.Before(midnight), o.ID)
			assert.True(t, o.UpdatedAt.Before(midnight), o.ID)
			assert.Equal(t, int64(1), o.Version, o.ID)
		}
	}
}

func TestRealisticFigures(t *testing.T) {
	d := Build(testToday)
	for _, n := range d.Needs {
		assert.GreaterOrEqual(t, n.BudgetUSD, int64(40_000), n.ID)
		assert.LessOrEqual(t, n.BudgetUSD, int64(2_000_000), n.ID)
		assert.GreaterOrEqual(t, len(n.Description), 150, "%s: a real description", n.ID)
		switch n.Capability {
		case models.CapCERTSetup, models.CapCERTMaturity:
			assert.Equal(t, models.FrameworkSIM3, n.Maturity.Framework, "%s: CERT needs use SIM3", n.ID)
			assert.Greater(t, n.Maturity.Target, n.Maturity.Current, n.ID)
		case models.CapNationalStrategy:
			assert.Equal(t, models.FrameworkCMM, n.Maturity.Framework, "%s: strategies use the CMM", n.ID)
		}
	}
	for _, o := range d.Offers {
		assert.GreaterOrEqual(t, o.BudgetUSD, int64(150_000), o.ID)
		assert.LessOrEqual(t, o.BudgetUSD, int64(10_000_000), o.ID)
		assert.GreaterOrEqual(t, o.MaxEngagements, 1, o.ID)
		assert.LessOrEqual(t, o.MaxEngagements, 10, o.ID)
		assert.NotNil(t, o.EligibleCountries, "%s: [] rather than null", o.ID)
		assert.NotNil(t, o.EligibleRegions, "%s: [] rather than null", o.ID)
	}
}

// TestOfferKinds checks the mix of eligibility the issue asks for: global offers, explicit
// country lists, and regional programmes for Africa, the Pacific, Latin America and the
// Caribbean and Eastern Europe, including a Francophone CSIRT one.
func TestOfferKinds(t *testing.T) {
	d := Build(testToday)
	global, explicit := 0, 0
	regions := map[string]bool{}
	francophoneCSIRT := false
	for _, o := range d.Offers {
		if len(o.EligibleCountries) == 0 && len(o.EligibleRegions) == 0 {
			global++
		}
		if len(o.EligibleCountries) > 0 {
			explicit++
		}
		for _, r := range o.EligibleRegions {
			regions[r] = true
		}
		if has(o.Languages, "fr") && has(o.EligibleRegions, "002") && hasCap(o.Capabilities, models.CapCERTSetup) {
			francophoneCSIRT = true
		}
	}
	assert.GreaterOrEqual(t, global, 3)
	assert.GreaterOrEqual(t, explicit, 2)
	for _, r := range []string{"002", "009", "419", "151"} {
		assert.True(t, regions[r], "an offer for region %s", r)
	}
	assert.True(t, francophoneCSIRT)
}

func TestReadinessConsistentWithNeeds(t *testing.T) {
	d := Build(testToday)
	profiles := map[string]models.Readiness{}
	for _, p := range d.Readiness {
		profiles[p.ISO] = p.Readiness
		assert.Equal(t, int64(1), p.Version, p.ISO)
		assert.GreaterOrEqual(t, p.Readiness.CERTMaturity, 0, p.ISO)
		assert.LessOrEqual(t, p.Readiness.CERTMaturity, 4, p.ISO)
		if !p.Readiness.NationalCERT {
			assert.Zero(t, p.Readiness.CERTMaturity, "%s: no CERT, no CERT maturity", p.ISO)
		}
	}
	for _, o := range d.Orgs {
		if o.Type == models.OrgGovernment {
			_, ok := profiles[o.Country]
			assert.True(t, ok, "readiness for %s", o.Country)
		}
	}
	assert.Len(t, profiles, len(d.Readiness))
	for _, n := range d.Needs {
		r, ok := profiles[n.Country]
		if !assert.True(t, ok, "%s: readiness for %s", n.ID, n.Country) {
			continue
		}
		switch n.Capability {
		case models.CapCERTSetup:
			assert.False(t, r.NationalCERT, "%s: a country setting up a CERT has none", n.ID)
		case models.CapCERTMaturity:
			assert.True(t, r.NationalCERT, "%s: a country maturing its CERT has one", n.ID)
			assert.Equal(t, r.CERTMaturity, n.Maturity.Current, "%s: starts from the reported SIM3 level", n.ID)
		case models.CapLegalPosition:
			assert.False(t, r.LegalPositionPublished, "%s: position not yet published", n.ID)
		case models.CapNationalStrategy:
			assert.False(t, r.NationalStrategy, "%s: no strategy yet", n.ID)
		case models.CapPoCReadiness:
			if strings.HasPrefix(n.Title, "Nominate") {
				assert.False(t, r.PoCNominated, "%s: asks to nominate, so none nominated", n.ID)
			} else {
				assert.True(t, r.PoCNominated, "%s: exercises PoCs already nominated", n.ID)
			}
		}
	}
}

// TestEveryOfferHasMatches makes sure the demo shows real matches: each offer covers the
// capability of, is open to the country of, and is available when at least three open or
// submitted needs can start.
func TestEveryOfferHasMatches(t *testing.T) {
	for _, today := range []models.Date{testToday, "2026-12-31"} {
		d := Build(today)
		for _, o := range d.Offers {
			var matched []string
			for _, n := range d.Needs {
				if n.Status != models.NeedOpen && n.Status != models.NeedSubmitted {
					continue
				}
				if hasCap(o.Capabilities, n.Capability) && eligible(o, n.Country) && o.AvailableUntil >= n.StartBy {
					matched = append(matched, n.ID)
				}
			}
			assert.GreaterOrEqual(t, len(matched), 3, "%s (%s) matches only %v", o.ID, today, matched)
		}
		// And every open need has at least one open offer.
		for _, n := range d.Needs {
			if n.Status != models.NeedOpen {
				continue
			}
			found := false
			for _, o := range d.Offers {
				if o.Status == models.OfferOpen && hasCap(o.Capabilities, n.Capability) && eligible(o, n.Country) && o.AvailableUntil >= n.StartBy {
					found = true
					break
				}
			}
			assert.True(t, found, "%s has an open offer", n.ID)
		}
	}
}

func eligible(o models.Offer, iso string) bool {
	if len(o.EligibleCountries) == 0 && len(o.EligibleRegions) == 0 {
		return true
	}
	if has(o.EligibleCountries, iso) {
		return true
	}
	for _, r := range o.EligibleRegions {
		if models.CountryInRegion(iso, r) {
			return true
		}
	}
	return false
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func hasCap(list []models.Capability, c models.Capability) bool {
	for _, v := range list {
		if v == c {
			return true
		}
	}
	return false
}

// TestDemoPoCsAreValidAndAgreeWithReadiness: every demo contact passes the validation a
// ministry's entry gets, and exactly the states whose readiness says "nominated" have some.
func TestDemoPoCsAreValidAndAgreeWithReadiness(t *testing.T) {
	d := Build("2027-01-15")
	nominated := map[string]bool{}
	for _, p := range d.Readiness {
		if p.Readiness.PoCNominated {
			nominated[p.ISO] = true
		}
	}
	listed := map[string]bool{}
	for _, dir := range d.PoCs {
		listed[dir.ISO] = true
		assert.Len(t, dir.Items, 2, dir.ISO)
		for _, p := range dir.Items {
			cp := p
			cp.Normalize()
			assert.NoError(t, cp.Validate(), "%s %s", dir.ISO, p.ID)
			assert.Equal(t, p, cp, "%s %s is stored normalized", dir.ISO, p.ID)
			assert.True(t, models.ValidID(p.ID), p.ID)
		}
		assert.True(t, dir.Readiness(time.Now()).Nominated)
	}
	assert.Equal(t, nominated, listed)
}
