package iati

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capmatch/capmatch/adapters/iati/reference"
	"github.com/capmatch/capmatch/models"
)

const hostile = "<script>alert(\"x\")</script> & 'quotes' \"double\" ]]> — مرحبا بالعالم 你好世界 Привет мир 🔐🛡️👩🏽‍💻 " +
	"ctl:\x00\x01\x07\x0b\x0c\x1b\x7f\u0085 nonchars:\uFFFE\uFFFF bad-utf8:\xff\xfe\xc3 tab:\t cr:\r\n end"

func intp(i int) *int { return &i }

func testOpts() Options {
	return Options{
		ReportingOrg: Org{Ref: "XM-CAPMATCH", Name: "capmatch coordination unit", Type: "40"},
		Orgs: map[string]Org{
			"org-donor": {Ref: "GB-GOV-1", Name: "Foreign, Commonwealth & Development Office", Type: "10"},
			"org-impl":  {Ref: "XI-IATI-GFCE", Name: "GFCE Foundation", Type: "60"},
			"org-noref": {Name: "Cyber <Readiness> & Co", Type: "70"},
		},
		GeneratedAt:  time.Date(2025, 8, 4, 5, 6, 7, 0, time.UTC),
		CatalogueURL: "https://capmatch.example.org/api/v1/catalogue",
	}
}

// fullProject sets every field the writer reads.
func fullProject() *models.Project {
	return &models.Project{
		ID:            "p-full",
		Title:         "National CERT for Sierra Leone",
		Description:   "Set up a national CSIRT with FIRST services.",
		Country:       "SL",
		Theme:         models.ThemeIncidentManagement,
		Capability:    models.CapCERTSetup,
		DonorOrgID:    "org-donor",
		ImplementerID: "org-impl",
		Participants: []models.Participant{
			{OrganizationID: "org-donor", Name: "FCDO", Role: models.RoleFunding, Type: "10"},
			{OrganizationID: "org-impl", Role: models.RoleImplementing},
			{OrganizationID: "org-noref", Role: models.RoleExtending},
			{OrganizationID: "org-gov", Name: "Ministry of Information and Communications", Role: models.RoleAccountable, Type: "10"},
		},
		PlannedStart: "2024-01-15",
		PlannedEnd:   "2025-06-30",
		ActualStart:  "2024-02-01",
		ActualEnd:    "2025-07-15",
		BudgetUSD:    250000,
		Status:       models.StatusFinalisation,
		Results: []models.Result{
			{Type: models.ResultOutput, Title: "CSIRT staff trained", Description: "12 analysts", Target: intp(12), Achieved: intp(11)},
			{Type: models.ResultOutcome, Title: "SIM3 maturity", Baseline: intp(0), Target: intp(2), Achieved: intp(2)},
			{Type: models.ResultOutcome, Title: "Incident handling procedures adopted"},
		},
		Documents: []models.Document{
			{Title: "Terms of reference", URL: "https://example.org/docs/tor.pdf", Category: "A09", Language: "en"},
			{Title: "Project page", URL: "https://example.org/projects/p-full?lang=fr&x=1"},
			{Title: "not a web link", URL: "javascript:alert(1)"},
		},
		Transactions: []models.Transaction{
			{ID: "t1", Type: models.TxPledge, AmountUSD: 250000, Date: "2023-11-01"},
			{ID: "t2", Type: models.TxCommitment, AmountUSD: 250000, Date: "2024-01-10", Description: "Grant agreement"},
			{ID: "t3", Type: models.TxDisbursement, AmountUSD: 100000, Date: "2024-02-15"},
			{ID: "t4", Type: models.TxExpenditure, AmountUSD: 80000, Date: "2024-09-30"},
			{ID: "t5", Type: "refund", AmountUSD: 1, Date: "2024-10-01"},
			{ID: "t6", Type: models.TxDisbursement, AmountUSD: 1, Date: "2024-02-30"},
		},
		CreatedAt: time.Date(2023, 10, 1, 9, 0, 0, 0, time.UTC),
		UpdatedAt: time.Date(2025, 7, 20, 10, 11, 12, 0, time.UTC),
	}
}

// minimalProject has only what POST /api/v1/projects requires.
func minimalProject() *models.Project {
	return &models.Project{
		ID:           "p-min",
		Title:        "Cybercrime law drafting",
		Country:      "GM",
		Capability:   models.CapCybercrimeLegislation,
		DonorOrgID:   "org-donor",
		PlannedStart: "2025-01-01",
		PlannedEnd:   "2025-12-31",
		BudgetUSD:    40000,
		Status:       models.StatusPipeline,
	}
}

// bareProject lacks every mandatory element, to exercise the fallbacks.
func bareProject() *models.Project {
	return &models.Project{
		ID:        "p-bare",
		Title:     "\x00\x01",
		Results:   []models.Result{{Type: models.ResultOutput, Baseline: intp(1)}},
		CreatedAt: time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC),
	}
}

// hostileProject carries hostile text in every free-text field.
func hostileProject() *models.Project {
	p := fullProject()
	p.ID = "p-hostile"
	p.Title = "Title " + hostile
	p.Description = "Description " + hostile
	p.Participants[0].Name = "Donor " + hostile
	p.Results[0].Title = "Result " + hostile
	p.Results[0].Description = "Result description " + hostile
	p.Documents[0].Title = "Doc " + hostile
	p.Transactions[1].Description = "Tx " + hostile
	return p
}

func write(t testing.TB, projects []*models.Project, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, projects, opts))
	return buf.Bytes()
}

// validate runs xmllint against the official schema. A missing xmllint fails the test:
// CI installs it, and an unvalidated export is the bug this package exists to prevent.
func validate(t *testing.T, doc []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint not found (%v): install Debian package libxml2-utils (apt-get install libxml2-utils) to validate IATI output", err)
	}
	schema, err := reference.WriteSchema(t.TempDir())
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "activities.xml")
	require.NoError(t, os.WriteFile(file, doc, 0o600))
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", schema, file).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint rejected the export: %v\n%s\n--- document ---\n%s", err, out, doc)
	}
	assert.Contains(t, string(out), "validates")
}

// document mirrors the root element for decoding in tests.
type document struct {
	XMLName    xml.Name   `xml:"iati-activities"`
	Version    string     `xml:"version,attr"`
	Generated  string     `xml:"generated-datetime,attr"`
	Activities []activity `xml:"iati-activity"`
}

func decode(t testing.TB, data []byte) document {
	t.Helper()
	var d document
	require.NoError(t, xml.Unmarshal(data, &d))
	return d
}

func TestWriteValidatesAgainstSchema(t *testing.T) {
	cases := map[string][]*models.Project{
		"full":    {fullProject()},
		"minimal": {minimalProject()},
		"bare":    {bareProject()},
		"hostile": {hostileProject()},
		"all":     {fullProject(), nil, minimalProject(), bareProject(), hostileProject()},
	}
	for name, projects := range cases {
		t.Run(name, func(t *testing.T) {
			validate(t, write(t, projects, testOpts()))
		})
	}
}

func TestWriteFullContent(t *testing.T) {
	d := decode(t, write(t, []*models.Project{fullProject()}, testOpts()))
	assert.Equal(t, "2.03", d.Version)
	assert.Equal(t, "2025-08-04T05:06:07Z", d.Generated)
	require.Len(t, d.Activities, 1)
	a := d.Activities[0]

	assert.Equal(t, "XM-CAPMATCH-p-full", a.Identifier)
	assert.Equal(t, "2025-07-20T10:11:12Z", a.LastUpdated)
	assert.Equal(t, "en", a.Lang)
	assert.Equal(t, "USD", a.DefaultCurrency)
	assert.Equal(t, "1", a.Hierarchy)
	assert.Equal(t, "XM-CAPMATCH", a.ReportingOrg.Ref)
	assert.Equal(t, "40", a.ReportingOrg.Type)
	assert.Empty(t, a.ReportingOrg.SecondaryReporter)
	assert.Equal(t, "1", a.Description.Type)
	assert.Equal(t, "3", a.Status.Code)

	require.Len(t, a.Participants, 4)
	assert.Equal(t, participatingOrg{Ref: "GB-GOV-1", Type: "10", Role: "1", Narratives: []narrative{{"FCDO"}}}, a.Participants[0])
	assert.Equal(t, participatingOrg{Ref: "XI-IATI-GFCE", Type: "60", Role: "4", Narratives: []narrative{{"GFCE Foundation"}}}, a.Participants[1])
	assert.Equal(t, participatingOrg{Type: "70", Role: "3", Narratives: []narrative{{"Cyber <Readiness> & Co"}}}, a.Participants[2])
	assert.Equal(t, "2", a.Participants[3].Role)
	assert.Empty(t, a.Participants[3].Ref)

	assert.Equal(t, []activityDate{{"1", "2024-01-15"}, {"2", "2024-02-01"}, {"3", "2025-06-30"}, {"4", "2025-07-15"}}, a.Dates)
	require.Len(t, a.Countries, 1)
	assert.Equal(t, "SL", a.Countries[0].Code)
	assert.Equal(t, "100", a.Countries[0].Percentage)

	require.Len(t, a.Sectors, 2)
	assert.Equal(t, sector{Vocabulary: "1", Code: "22040", Percentage: "100", Narratives: []narrative{{"Information and communication technology (ICT)"}}}, a.Sectors[0])
	assert.Equal(t, "99", a.Sectors[1].Vocabulary)
	assert.Equal(t, "cert_setup", a.Sectors[1].Code)
	assert.Equal(t, "https://capmatch.example.org/api/v1/catalogue", a.Sectors[1].VocabularyURI)
	assert.Equal(t, "100", a.Sectors[1].Percentage)
	assert.Equal(t, models.Label("en", models.KindCapability, "cert_setup"), a.Sectors[1].Narratives[0].Text)

	// 2024-01-15..2024-12-31 is 352 days of 533: 165,103.18 → 165,103; the rest, 84,897.
	assert.Equal(t, []budget{
		{Type: "1", Status: "2", Start: dateElem{"2024-01-15"}, End: dateElem{"2024-12-31"},
			Value: value{Currency: "USD", ValueDate: "2024-01-15", Amount: 165103}},
		{Type: "1", Status: "2", Start: dateElem{"2025-01-01"}, End: dateElem{"2025-06-30"},
			Value: value{Currency: "USD", ValueDate: "2025-01-01", Amount: 84897}},
	}, a.Budgets, "one budget per calendar year, pro rata by days")

	var codes []string
	for _, tx := range a.Transactions {
		codes = append(codes, tx.Type.Code)
		assert.Equal(t, "USD", tx.Value.Currency)
		assert.Equal(t, tx.Date.ISODate, tx.Value.ValueDate)
	}
	assert.Equal(t, []string{"12", "2", "3", "4"}, codes, "unknown type and invalid date are left out")
	require.NotNil(t, a.Transactions[1].Description)
	assert.Equal(t, "Grant agreement", a.Transactions[1].Description.Narratives[0].Text)

	require.Len(t, a.Documents, 2, "the javascript: link is left out")
	assert.Equal(t, "application/pdf", a.Documents[0].Format)
	assert.Equal(t, "A09", a.Documents[0].Category.Code)
	assert.Equal(t, []codeElem{{"en"}}, a.Documents[0].Languages)
	assert.Equal(t, "text/html", a.Documents[1].Format)
	assert.Equal(t, "A12", a.Documents[1].Category.Code)
	assert.Equal(t, "https://example.org/projects/p-full?lang=fr&x=1", a.Documents[1].URL)

	require.Len(t, a.Results, 3)
	out := a.Results[0]
	assert.Equal(t, "1", out.Type)
	require.Len(t, out.Indicators, 1)
	assert.Equal(t, "1", out.Indicators[0].Measure)
	assert.Empty(t, out.Indicators[0].Baselines)
	require.Len(t, out.Indicators[0].Periods, 1)
	assert.Equal(t, []valueAttr{{"12"}}, out.Indicators[0].Periods[0].Targets)
	assert.Equal(t, []valueAttr{{"11"}}, out.Indicators[0].Periods[0].Actuals)
	maturity := a.Results[1].Indicators[0]
	assert.Equal(t, "2", a.Results[1].Type)
	assert.Equal(t, []baseline{{Year: 2024, ISODate: "2024-01-15", Value: "0"}}, maturity.Baselines)
	qual := a.Results[2].Indicators[0]
	assert.Equal(t, "5", qual.Measure)
	assert.Empty(t, qual.Baselines)
	assert.Empty(t, qual.Periods)
}

func TestWriteFallbacks(t *testing.T) {
	d := decode(t, write(t, []*models.Project{minimalProject(), bareProject()}, testOpts()))
	require.Len(t, d.Activities, 2)

	minimal := d.Activities[0]
	assert.Equal(t, "Cybercrime law drafting", minimal.Description.Narratives[0].Text, "title stands in for a missing description")
	assert.Equal(t, []participatingOrg{{Ref: "GB-GOV-1", Type: "10", Role: "1", Narratives: []narrative{{"Foreign, Commonwealth & Development Office"}}}},
		minimal.Participants, "donor id gives the funding organisation when there are no participants")
	require.Len(t, minimal.Budgets, 1)
	assert.Equal(t, "1", minimal.Budgets[0].Status, "indicative while commitments do not cover the budget")
	assert.Equal(t, "15130", minimal.Sectors[0].Code)

	bare := d.Activities[1]
	assert.Equal(t, "XM-CAPMATCH-p-bare", bare.Title.Narratives[0].Text, "identifier stands in for an empty title")
	assert.Equal(t, "2", bare.Participants[0].Role)
	assert.Equal(t, "XM-CAPMATCH", bare.Participants[0].Ref)
	assert.Equal(t, "1", bare.Status.Code, "unknown status written as pipeline")
	assert.Equal(t, []activityDate{{"1", "2024-05-06"}}, bare.Dates)
	assert.Empty(t, bare.LastUpdated)
	assert.Empty(t, bare.Countries)
	assert.Empty(t, bare.Sectors)
	assert.Empty(t, bare.Budgets)
	require.Len(t, bare.Results, 1)
	assert.Equal(t, "Output", bare.Results[0].Title.Narratives[0].Text)
	assert.Empty(t, bare.Results[0].Indicators[0].Baselines, "no baseline year without project dates")
}

func TestHostileTextRoundTrips(t *testing.T) {
	data := write(t, []*models.Project{hostileProject()}, testOpts())
	assert.NotContains(t, string(data), "<script>", "markup must be escaped")
	d := decode(t, data)
	require.Len(t, d.Activities, 1)
	a := d.Activities[0]

	want := clean(hostile)
	for _, r := range want {
		assert.True(t, r == '\t' || r == '\n' || !(r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0xFFFE || r == 0xFFFF), "kept %U", r)
	}
	for _, s := range []string{`<script>alert("x")</script>`, "&", "'quotes'", `"double"`, "]]>", "مرحبا بالعالم", "你好世界", "Привет мир", "🔐🛡️👩🏽‍💻", "tab:\t", "cr:\n end"} {
		assert.Contains(t, want, s)
	}
	assert.Contains(t, want, "ctl: nonchars: bad-utf8: tab")

	assert.Equal(t, "Title "+want, a.Title.Narratives[0].Text)
	assert.Equal(t, "Description "+want, a.Description.Narratives[0].Text)
	assert.Equal(t, "Donor "+want, a.Participants[0].Narratives[0].Text)
	assert.Equal(t, "Result "+want, a.Results[0].Title.Narratives[0].Text)
	assert.Equal(t, "Result description "+want, a.Results[0].Description.Narratives[0].Text)
	assert.Equal(t, "Doc "+want, a.Documents[0].Title.Narratives[0].Text)
	assert.Equal(t, "Tx "+want, a.Transactions[1].Description.Narratives[0].Text)
}

func TestClean(t *testing.T) {
	assert.Equal(t, "abc\nd\ne", clean(" a\x00b\x1b\uFFFEc\r\nd\xff\re\u0085 "))
	assert.Equal(t, "مرحبا 你好 🔐", clean("مرحبا 你好 🔐"))
	assert.Equal(t, "", clean("\x01\x02\uFFFF"))
}

func TestIdentifierStable(t *testing.T) {
	opts := testOpts()
	first := decode(t, write(t, []*models.Project{fullProject(), minimalProject()}, opts))
	opts.GeneratedAt = opts.GeneratedAt.Add(48 * time.Hour)
	p := fullProject()
	p.Title = "Renamed"
	p.Status = models.StatusClosed
	second := decode(t, write(t, []*models.Project{p, minimalProject()}, opts))
	for i := range first.Activities {
		assert.Equal(t, first.Activities[i].Identifier, second.Activities[i].Identifier)
	}
	assert.Equal(t, "XM-CAPMATCH-p-min", second.Activities[1].Identifier)

	own := minimalProject()
	own.IATIIdentifier = "GB-GOV-1-300123"
	assert.Equal(t, "GB-GOV-1-300123", Identifier("XM-CAPMATCH", own))
	d := decode(t, write(t, []*models.Project{own}, testOpts()))
	assert.Equal(t, "GB-GOV-1-300123", d.Activities[0].Identifier)
	assert.Equal(t, "1", d.Activities[0].ReportingOrg.SecondaryReporter, "re-publishing another organisation's activity")
}

// codelist reads an IATI code list: code → English name.
func codelist(t *testing.T, name string) map[string]string {
	t.Helper()
	data, err := reference.Codelist(name)
	require.NoError(t, err)
	var cl struct {
		Items []struct {
			Code  string `xml:"code"`
			Names []struct {
				Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
				Text string `xml:",chardata"`
			} `xml:"name>narrative"`
		} `xml:"codelist-items>codelist-item"`
	}
	require.NoError(t, xml.Unmarshal(data, &cl))
	out := map[string]string{}
	for _, it := range cl.Items {
		for _, n := range it.Names {
			if n.Lang == "" {
				out[it.Code] = n.Text
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

func TestDACMappingCoversEveryCapability(t *testing.T) {
	sectors := codelist(t, "Sector")
	for _, c := range models.Capabilities {
		code, name := DACCode(c)
		require.NotEmpty(t, code, "capability %s has no DAC code", c)
		assert.Len(t, code, 5, "vocabulary 1 is the 5-digit list")
		assert.Equal(t, sectors[code], name, "DAC code %s of %s is not in Sector.xml under that name", code, c)
	}
	assert.Len(t, capabilityToDACs, len(models.Capabilities), "no mapping for a capability that does not exist")
	code, name := DACCode("no_such_capability")
	assert.Empty(t, code)
	assert.Empty(t, name)
}

func TestTransactionCodesMatchCodelist(t *testing.T) {
	types := codelist(t, "TransactionType")
	for tx, want := range map[models.TransactionType]string{
		models.TxPledge:       "Outgoing Pledge",
		models.TxCommitment:   "Outgoing Commitment",
		models.TxDisbursement: "Disbursement",
		models.TxExpenditure:  "Expenditure",
	} {
		code, ok := TransactionCode(tx)
		require.True(t, ok, tx)
		assert.Equal(t, want, types[code], "%s → %s", tx, code)
	}
	_, ok := TransactionCode("refund")
	assert.False(t, ok)
}

func TestWriteErrors(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, nil, testOpts())
	require.ErrorIs(t, err, ErrNoActivities)
	assert.ErrorIs(t, err, models.ErrNotFound)
	assert.ErrorIs(t, Write(&buf, []*models.Project{nil}, testOpts()), ErrNoActivities)

	opts := testOpts()
	opts.ReportingOrg.Ref = " "
	assert.ErrorIs(t, Write(&buf, []*models.Project{minimalProject()}, opts), models.ErrInvalid)

	noID := minimalProject()
	noID.ID = ""
	assert.ErrorIs(t, Write(&buf, []*models.Project{fullProject(), noID}, testOpts()), models.ErrInvalid)

	noDate := &models.Project{ID: "x", Title: "x"}
	assert.ErrorIs(t, Write(&buf, []*models.Project{noDate}, testOpts()), models.ErrInvalid)
	assert.Zero(t, buf.Len(), "nothing is written when the export cannot be made")

	assert.Error(t, Write(failingWriter{}, []*models.Project{minimalProject()}, testOpts()))
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// FuzzWrite checks that any title and description give a well-formed document with exactly
// one iati-activity, whose title and description read back as the cleaned input.
func FuzzWrite(f *testing.F) {
	f.Add("CERT setup", "A national CSIRT.")
	f.Add(hostile, hostile)
	f.Add("", "")
	f.Add("]]><!--", "<?xml version=\"1.0\"?><iati-activity>")
	f.Fuzz(func(t *testing.T, title, desc string) {
		p := minimalProject()
		p.Title = title
		p.Description = desc
		p.Results = []models.Result{{Type: models.ResultOutput, Title: title, Description: desc}}
		var buf bytes.Buffer
		if err := Write(&buf, []*models.Project{p}, testOpts()); err != nil {
			t.Fatalf("Write: %v", err)
		}
		dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
		activities := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("not well-formed: %v\n%s", err, buf.Bytes())
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "iati-activity" {
				activities++
			}
		}
		if activities != 1 {
			t.Fatalf("want exactly one iati-activity, got %d", activities)
		}
		var d document
		if err := xml.Unmarshal(buf.Bytes(), &d); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		wantTitle := clean(title)
		if wantTitle == "" {
			wantTitle = models.Label("en", models.KindCapability, string(p.Capability))
		}
		if got := d.Activities[0].Title.Narratives[0].Text; got != wantTitle {
			t.Fatalf("title %q, want %q", got, wantTitle)
		}
		wantDesc := clean(desc)
		if wantDesc == "" {
			wantDesc = wantTitle
		}
		if got := d.Activities[0].Description.Narratives[0].Text; got != wantDesc {
			t.Fatalf("description %q, want %q", got, wantDesc)
		}
		if strings.Count(buf.String(), "<iati-activity ") != 1 {
			t.Fatalf("raw output does not hold exactly one <iati-activity> start tag")
		}
	})
}
