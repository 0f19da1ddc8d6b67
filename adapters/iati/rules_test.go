package iati

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capmatch/capmatch/adapters/iati/ruletest"
	"github.com/capmatch/capmatch/models"
)

// The IATI Validator checks more than the schema. These tests run the rules it was found to
// apply to capmatch's export (issue 18.0), implemented in package ruletest, on what Write
// produces. Each test names the rule id it covers.

// rulesConfig is the validator's view of testOpts: now is the generation time.
func rulesConfig(opts Options) ruletest.Config {
	pubs := map[string]bool{}
	for _, o := range opts.Orgs {
		if o.Publishes && o.Ref != "" {
			pubs[o.Ref] = true
		}
	}
	return ruletest.Config{Now: opts.GeneratedAt, ReportingRef: opts.ReportingOrg.Ref, Placeholders: []string{PlaceholderRef}, Publishers: pubs}
}

// registeredOpts are testOpts with a registered publisher and a donor that publishes to IATI.
func registeredOpts() Options {
	opts := testOpts()
	opts.ReportingOrg = Org{Ref: "XI-IATI-CAPMATCHDESK", Name: "capmatch coordination desk", Type: "40"}
	d := opts.Orgs["org-donor"]
	d.Publishes = true
	opts.Orgs["org-donor"] = d
	return opts
}

// longProject runs three and a half years, has money recorded today and in the future, and
// an actual start in the future while it is in pipeline: everything issue 18.0 found.
func longProject() *models.Project {
	p := minimalProject()
	p.ID = "p-long"
	p.PlannedStart, p.PlannedEnd = "2024-03-10", "2027-09-15"
	p.ActualStart = "2025-09-01" // after GeneratedAt (2025-08-04)
	p.BudgetUSD = 1_000_001
	p.Status = models.StatusPipeline
	p.Transactions = []models.Transaction{
		{ID: "past", Type: models.TxCommitment, AmountUSD: 500_000, Date: "2025-08-04"},
		{ID: "future", Type: models.TxCommitment, AmountUSD: 500_001, Date: "2025-08-05"},
		{ID: "future-disb", Type: models.TxDisbursement, AmountUSD: 10, Date: "2027-01-20"},
	}
	return p
}

func findings(t *testing.T, doc []byte, cfg ruletest.Config) []ruletest.Finding {
	t.Helper()
	fs, err := ruletest.Check(doc, cfg)
	require.NoError(t, err)
	return fs
}

func TestExportPassesTheValidatorRules(t *testing.T) {
	opts := registeredOpts()
	doc := write(t, []*models.Project{fullProject(), minimalProject(), bareProject(), hostileProject(), longProject()}, opts)
	validate(t, doc)
	assert.Empty(t, findings(t, doc, rulesConfig(opts)))
}

func TestRule_7_5_3_BudgetPeriodsAreAtMostOneYear(t *testing.T) {
	opts := registeredOpts()
	doc := write(t, []*models.Project{longProject()}, opts)
	assert.Empty(t, ruletest.Only(findings(t, doc, rulesConfig(opts)), ruletest.RuleBudgetTimeLimit))
	a := decode(t, doc).Activities[0]
	var got []string
	var total int64
	for _, b := range a.Budgets {
		got = append(got, b.Start.ISODate+".."+b.End.ISODate)
		assert.Equal(t, b.Start.ISODate, b.Value.ValueDate)
		total += b.Value.Amount
	}
	assert.Equal(t, []string{"2024-03-10..2024-12-31", "2025-01-01..2025-12-31", "2026-01-01..2026-12-31", "2027-01-01..2027-09-15"}, got)
	assert.Equal(t, int64(1_000_001), total, "the periods sum exactly to the budget")

	// The checker sees what the old writer did: one budget over the whole project.
	one := strings.Replace(string(doc), "<period-end iso-date=\"2024-12-31\">", "<period-end iso-date=\"2027-09-15\">", 1)
	assert.NotEmpty(t, ruletest.Only(findings(t, []byte(one), rulesConfig(opts)), ruletest.RuleBudgetTimeLimit))
}

func TestBudgetsSplitProRataByDaysInWholeDollars(t *testing.T) {
	// 2024 is a leap year: 2024-07-01..2024-12-31 is 184 days, 2025 365, 2026-01-01..2026-06-30 181; 730 in all.
	got := Budgets("2024-07-01", "2026-06-30", 1000)
	assert.Equal(t, []BudgetPeriod{
		{"2024-07-01", "2024-12-31", 252}, // 252.05
		{"2025-01-01", "2025-12-31", 500}, // 500.00
		{"2026-01-01", "2026-06-30", 248}, // 247.95: the leftover dollar goes to the larger remainder
	}, got)
	assert.Equal(t, []BudgetPeriod{{"2025-05-05", "2025-05-05", 7}}, Budgets("2025-05-05", "2025-05-05", 7))
	assert.Nil(t, Budgets("2025-05-05", "2025-05-04", 7))
	assert.Nil(t, Budgets("2025-05-05", "2025-13-01", 7))
	assert.Nil(t, Budgets("2025-05-05", "2026-05-05", 0))

	rng := rand.New(rand.NewPCG(18, 0))
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 2000 {
		s := base.AddDate(0, 0, rng.IntN(3000))
		e := s.AddDate(0, 0, rng.IntN(4000))
		amount := 1 + rng.Int64N(9_999_999_999)
		ps := Budgets(models.DateOf(s), models.DateOf(e), amount)
		require.NotEmpty(t, ps)
		var sum int64
		for i, p := range ps {
			sum += p.AmountUSD
			ps0, _ := p.Start.Time()
			pe, _ := p.End.Time()
			require.True(t, pe.Before(ps0.AddDate(1, 0, 0)), "%v longer than a year", p)
			require.Equal(t, ps0.Year(), pe.Year(), "%v is not within a calendar year", p)
			if i > 0 {
				prev, _ := ps[i-1].End.Time()
				require.Equal(t, prev.AddDate(0, 0, 1), ps0, "periods are consecutive")
			}
		}
		require.Equal(t, models.DateOf(s), ps[0].Start)
		require.Equal(t, models.DateOf(e), ps[len(ps)-1].End)
		require.Equal(t, amount, sum, "%s..%s %d", s, e, amount)
	}
}

func TestRule_11_2_1_And_11_2_2_FutureTransactionsAreNotPublished(t *testing.T) {
	opts := registeredOpts()
	doc := write(t, []*models.Project{longProject()}, opts)
	fs := findings(t, doc, rulesConfig(opts))
	assert.Empty(t, ruletest.Only(fs, ruletest.RuleTransactionDateFuture, ruletest.RuleValueDateFuture))
	a := decode(t, doc).Activities[0]
	require.Len(t, a.Transactions, 1, "only the transaction dated on or before the generation date")
	assert.Equal(t, "past", a.Transactions[0].Ref)

	// Without the rule (no generation time) the checker flags both.
	noNow := registeredOpts()
	noNow.GeneratedAt = time.Time{}
	fs = findings(t, write(t, []*models.Project{longProject()}, noNow), rulesConfig(opts))
	assert.Len(t, ruletest.Only(fs, ruletest.RuleTransactionDateFuture), 2)
	assert.Len(t, ruletest.Only(fs, ruletest.RuleValueDateFuture), 2)
}

func TestRule_11_1_4_NoFutureActualStart(t *testing.T) {
	opts := registeredOpts()
	p := longProject()
	p.Status = models.StatusImplementation // not pipeline: only the date decides
	doc := write(t, []*models.Project{p}, opts)
	assert.Empty(t, ruletest.Only(findings(t, doc, rulesConfig(opts)), ruletest.RuleActualStartFuture))
	assert.Equal(t, []activityDate{{"1", "2024-03-10"}, {"3", "2027-09-15"}}, decode(t, doc).Activities[0].Dates)

	// A project with no planned start gets its future actual start as the planned one.
	p.PlannedStart = ""
	assert.Equal(t, []activityDate{{"1", "2025-09-01"}, {"3", "2027-09-15"}}, decode(t, write(t, []*models.Project{p}, opts)).Activities[0].Dates)

	// A project in pipeline has not started: a past actual start is not written either.
	p = longProject()
	p.ActualStart = "2024-04-01"
	assert.Equal(t, []activityDate{{"1", "2024-03-10"}, {"3", "2027-09-15"}}, decode(t, write(t, []*models.Project{p}, opts)).Activities[0].Dates)

	noNow := registeredOpts()
	noNow.GeneratedAt = time.Time{}
	p = longProject()
	p.Status = models.StatusImplementation
	assert.NotEmpty(t, ruletest.Only(findings(t, write(t, []*models.Project{p}, noNow), rulesConfig(opts)), ruletest.RuleActualStartFuture))
}

func TestRule_1_14_8_PublisherRefIsConfiguredAndThePlaceholderMarked(t *testing.T) {
	opts := registeredOpts()
	doc := write(t, []*models.Project{minimalProject()}, opts)
	assert.Empty(t, ruletest.Only(findings(t, doc, rulesConfig(opts)), ruletest.RuleReportingOrgRef))
	a := decode(t, doc).Activities[0]
	assert.Equal(t, "XI-IATI-CAPMATCHDESK", a.ReportingOrg.Ref)
	assert.Equal(t, "XI-IATI-CAPMATCHDESK-p-min", a.Identifier, "the publisher's ref prefixes the identifier")
	assert.NotContains(t, string(doc), "placeholder")

	// The default placeholder is written, and the file says it is one.
	doc = write(t, []*models.Project{minimalProject()}, testOpts())
	assert.Contains(t, string(doc), "<!-- reporting-org/@ref XM-CAPMATCH is a placeholder")
	assert.NotEmpty(t, ruletest.Only(findings(t, doc, rulesConfig(testOpts())), ruletest.RuleReportingOrgRef))
	validate(t, doc)
}

func TestSecondaryReporterWhenTheFunderPublishesToIATI(t *testing.T) {
	opts := registeredOpts()
	cfg := rulesConfig(opts)
	doc := write(t, []*models.Project{fullProject(), minimalProject()}, opts)
	assert.Empty(t, findings(t, doc, cfg))
	for _, a := range decode(t, doc).Activities {
		assert.Equal(t, "1", a.ReportingOrg.SecondaryReporter, "%s: GB-GOV-1 publishes its own data", a.Identifier)
	}
	// The same donor, not flagged as a publisher: capmatch is the primary reporter, and the
	// checker catches the missing flag.
	plain := testOpts()
	assert.Empty(t, decode(t, write(t, []*models.Project{minimalProject()}, plain)).Activities[0].ReportingOrg.SecondaryReporter)
	fs := findings(t, write(t, []*models.Project{minimalProject()}, plain), cfg)
	assert.NotEmpty(t, ruletest.Only(fs, "secondary-reporter"))
}

func TestVocabulary99URIIsAbsolute(t *testing.T) {
	opts := registeredOpts()
	a := decode(t, write(t, []*models.Project{minimalProject()}, opts)).Activities[0]
	assert.Equal(t, "https://capmatch.example.org/api/v1/catalogue", a.Sectors[1].VocabularyURI)

	opts.CatalogueURL = CataloguePath // relative: means nothing outside capmatch
	doc := write(t, []*models.Project{minimalProject()}, opts)
	assert.Empty(t, decode(t, doc).Activities[0].Sectors[1].VocabularyURI, "left out rather than relative")
	validate(t, doc)
	assert.NotEmpty(t, ruletest.Only(findings(t, doc, rulesConfig(opts)), "sector vocabulary-uri"))
}

// TestRuleCheckerCatchesViolations makes sure the checker can fail: a document breaking
// each rule yields a finding of that rule.
func TestRuleCheckerCatchesViolations(t *testing.T) {
	doc := `<iati-activities version="2.03"><iati-activity>
  <iati-identifier>OTHER-1/x</iati-identifier>
  <reporting-org ref="XM-CAPMATCH" type="40"/>
  <participating-org ref="GB-GOV-1" role="1"/>
  <activity-date type="1" iso-date="2025-01-01"/><activity-date type="2" iso-date="2026-01-01"/>
  <activity-date type="3" iso-date="2024-01-01"/><activity-date type="4" iso-date="2026-02-01"/>
  <recipient-country code="SN" percentage="60"/>
  <sector vocabulary="1" code="15130" percentage="50"/>
  <sector vocabulary="99" vocabulary-uri="/api/v1/catalogue" code="cert_setup" percentage="100"/>
  <budget type="1"><period-start iso-date="2024-01-01"/><period-end iso-date="2025-06-30"/><value value-date="2023-01-01">1</value></budget>
  <budget type="1"><period-start iso-date="2025-06-01"/><period-end iso-date="2025-05-01"/><value value-date="2025-06-01">1</value></budget>
  <transaction><transaction-type code="2"/><transaction-date iso-date="2025-09-01"/><value value-date="2025-09-01">1</value></transaction>
</iati-activity></iati-activities>`
	fs := findings(t, []byte(doc), ruletest.Config{Now: time.Date(2025, 8, 4, 0, 0, 0, 0, time.UTC), ReportingRef: "XI-IATI-X",
		Placeholders: []string{PlaceholderRef}, Publishers: map[string]bool{"GB-GOV-1": true}})
	rules := map[string]bool{}
	for _, f := range fs {
		rules[f.Rule] = true
	}
	for _, want := range []string{ruletest.RuleBudgetTimeLimit, ruletest.RuleTransactionDateFuture, ruletest.RuleValueDateFuture,
		ruletest.RuleActualStartFuture, ruletest.RuleReportingOrgRef, "date_order budget", "overlap budget", "between_dates budget value-date",
		"date_order activity-date type 4 < NOW", "date_order activity-date type 1 < type 3", "identifier prefix",
		"regex_matches iati-identifier", "secondary-reporter", "sum recipient-country/region percentage",
		"strict_sum sector percentage vocabulary 1", "if_then sector vocabulary 98/99 narrative", "sector vocabulary-uri"} {
		assert.True(t, rules[want], "no finding for %s in %v", want, fs)
	}
}
