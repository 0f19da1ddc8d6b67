package iati

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capmatch/capmatch/models"
)

// readAll reads every activity of a document.
func readAll(t testing.TB, r io.Reader, lim Limits) ([]*Activity, string, error) {
	t.Helper()
	rd := NewReader(r, lim)
	var out []*Activity
	for {
		a, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, rd.Version, nil
		}
		if err != nil {
			return out, rd.Version, err
		}
		out = append(out, a)
	}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "import", name))
	require.NoError(t, err)
	return b
}

// mapped is "capability:confidence" for each capability an activity maps to.
func mapped(a *Activity) []string {
	var out []string
	for _, m := range MapCapabilities(a) {
		out = append(out, string(m.Capability)+":"+string(m.Confidence))
	}
	return out
}

// TestImportFixturesValidateAgainstTheSchema: the fixtures are real IATI files; those that say
// 2.03 (and the older ones, which happen to be valid 2.03 too) pass the 2.03 schema.
func TestImportFixturesValidateAgainstTheSchema(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "import", "*.xml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			validate(t, b)
		})
	}
}

func TestReadFixtures(t *testing.T) {
	t.Run("bilateral donor 2.03, EUR, two countries, a DAC region", func(t *testing.T) {
		acts, version, err := readAll(t, bytes.NewReader(fixture(t, "nl-mfa-2.03.xml")), Limits{})
		require.NoError(t, err)
		assert.Equal(t, "2.03", version)
		require.Len(t, acts, 3)
		a := acts[0]
		assert.Equal(t, "XM-DAC-7-PPR-4000012345", a.Identifier)
		assert.Equal(t, models.ExternalOrg{Ref: "XM-DAC-7", Type: "10", Name: "Netherlands - Ministry of Foreign Affairs"}, a.ReportingOrg)
		assert.Equal(t, []models.Narrative{{Lang: "en", Text: "National CSIRT establishment in West Africa"},
			{Lang: "fr", Text: "Création d'équipes nationales de réponse aux incidents informatiques en Afrique de l'Ouest"}}, a.Titles)
		assert.Equal(t, models.StatusImplementation, a.Status)
		assert.Equal(t, models.Date("2024-01-01"), a.PlannedStart)
		assert.Equal(t, models.Date("2024-02-15"), a.ActualStart)
		assert.Equal(t, models.Date("2027-12-31"), a.PlannedEnd)
		assert.Equal(t, []Share{{"SN", "60"}, {"GH", "40"}}, a.Countries)
		assert.Equal(t, []Sector{{Code: "22040", Vocabulary: "1", Percentage: "70"}, {Code: "15210", Vocabulary: "1", Percentage: "30"}}, a.Sectors)
		require.Len(t, a.Budgets, 2)
		assert.Equal(t, models.ExternalMoney{Type: "1", Status: "2", PeriodStart: "2024-01-01", PeriodEnd: "2024-12-31", Value: "750000.00",
			Currency: "EUR", ValueDate: "2024-01-01"}, a.Budgets[0])
		require.Len(t, a.Transactions, 2)
		assert.Equal(t, "EUR", a.Transactions[1].Currency, "the activity's default currency")
		assert.Equal(t, map[string]map[string]float64{"2": {"EUR": 2400000}, "3": {"EUR": 500000}}, a.Sums)
		require.Len(t, a.Participants, 2)
		assert.Equal(t, "Global Forum on Cyber Expertise", a.Participants[1].Name)
		assert.Equal(t, []string{"cert_setup:high"}, mapped(a))
		m := MapCapabilities(a)[0]
		assert.Equal(t, []string{"title:csirt", "sector:1:22040"}, m.Evidence)

		assert.Equal(t, []Region{{Code: "1030", Vocabulary: "1", Percentage: "100"}}, acts[1].Regions)
		assert.ElementsMatch(t, []string{"legal_position:high", "norms_implementation:high"}, mapped(acts[1]))
		assert.Empty(t, mapped(acts[2]), "water and sanitation is not cyber capacity building")
		assert.Empty(t, CyberTerms(acts[2]))
	})
	t.Run("ministry 2.02, GBP, DAC 3-digit sector, revised budget", func(t *testing.T) {
		acts, version, err := readAll(t, bytes.NewReader(fixture(t, "fcdo-2.02.xml")), Limits{})
		require.NoError(t, err)
		assert.Equal(t, "2.02", version)
		require.Len(t, acts, 2)
		a := acts[0]
		assert.Equal(t, models.Date("2024-04-01"), a.PlannedStart, "a time zone on an xsd:date is dropped")
		assert.Equal(t, []Share{{"GM", ""}}, a.Countries, "codes upper-cased; no percentage for a single country")
		assert.Len(t, a.Descriptions, 1, "only the general description (type 1)")
		assert.Equal(t, []string{"cybercrime_legislation:high", "law_enforcement_training:medium"}, mapped(a))
		assert.Empty(t, mapped(acts[1]))
	})
	t.Run("agency 2.01 in French", func(t *testing.T) {
		acts, version, err := readAll(t, bytes.NewReader(fixture(t, "afd-2.01.xml")), Limits{})
		require.NoError(t, err)
		assert.Equal(t, "2.01", version)
		require.Len(t, acts, 1)
		a := acts[0]
		assert.Equal(t, "fr", a.Titles[0].Lang, "the activity's xml:lang")
		assert.Equal(t, models.StatusPipeline, a.Status)
		assert.Equal(t, "EUR", a.Budgets[0].Currency)
		assert.Equal(t, []string{"national_strategy:high", "cert_setup:high", "awareness:medium"}, mapped(a))
	})
	t.Run("regional organisation 2.03 in Spanish, USD, UN M49 region", func(t *testing.T) {
		acts, _, err := readAll(t, bytes.NewReader(fixture(t, "oas-2.03-es.xml")), Limits{})
		require.NoError(t, err)
		require.Len(t, acts, 2)
		assert.Equal(t, []Share{{"DO", "60.5"}, {"GT", "39.5"}}, acts[0].Countries)
		assert.Equal(t, []string{"national_strategy:high", "cyber_exercises:high"}, mapped(acts[0]))
		assert.Equal(t, []string{"cert_setup:high"}, mapped(acts[1]))
		m49, ok := RegionM49(acts[1].Regions[0].Vocabulary, acts[1].Regions[0].Code)
		assert.True(t, ok)
		assert.Equal(t, "419", m49)
	})
	t.Run("capmatch's own export: vocabulary 99", func(t *testing.T) {
		doc := write(t, []*models.Project{fullProject()}, registeredOpts())
		acts, _, err := readAll(t, bytes.NewReader(doc), Limits{})
		require.NoError(t, err)
		require.Len(t, acts, 1)
		ms := MapCapabilities(acts[0])
		require.NotEmpty(t, ms)
		assert.Equal(t, models.CapCERTSetup, ms[0].Capability)
		assert.Equal(t, models.ConfidenceHigh, ms[0].Confidence)
		assert.Contains(t, ms[0].Evidence, "vocabulary-99:cert_setup")
	})
}

// TestMappingTablesUseRealCodes: every DAC code of the mapping is in the 2.03 Sector list,
// every capability has phrases and sectors, phrases are folded and use "*" only at the end,
// and every DAC region maps to an M49 region capmatch knows.
func TestMappingTablesUseRealCodes(t *testing.T) {
	sectors := Codes("Sector")
	require.NotEmpty(t, sectors)
	for _, c := range models.Capabilities {
		require.NotEmpty(t, capabilitySectors[c], c)
		code, _ := DACCode(c)
		assert.Equal(t, code, capabilitySectors[c][0], "%s: the export's DAC code comes first", c)
		for _, code := range capabilitySectors[c] {
			assert.Contains(t, sectors, code, "%s: DAC code %s", c, code)
		}
		ph := capabilityPhrases[c]
		require.NotEmpty(t, ph.specific, c)
		for _, p := range append(append([]string(nil), ph.specific...), ph.contextual...) {
			assert.Equal(t, " "+strings.TrimSuffix(p, "*")+" ", foldText(strings.TrimSuffix(p, "*")), "%s: phrase %q is not folded", c, p)
			assert.NotContains(t, strings.TrimSuffix(p, "*"), "*", "%s: %q", c, p)
		}
	}
	assert.Len(t, capabilitySectors, len(models.Capabilities))
	assert.Len(t, capabilityPhrases, len(models.Capabilities))
	for dac, m49 := range dacRegionM49 {
		_, ok := models.LookupRegion(m49)
		assert.True(t, ok, "DAC region %s → M49 %s, which capmatch does not know", dac, m49)
	}
	_, ok := RegionM49("1", "589")
	assert.False(t, ok, "the Middle East has no M49 equivalent")
	m, ok := RegionM49("2", "11")
	assert.True(t, ok)
	assert.Equal(t, "011", m)
	assert.Equal(t, " cybersecurite strategie nationale 2025 ", foldText("Cybersécurité: Stratégie-NATIONALE (2025)"))
}

// hostileCase is one file that must be refused, and how.
type hostileCase struct {
	name string
	doc  string
	code string
	kind error
}

// hostileDocuments are the files an import must refuse with a 4xx and store nothing of; the
// API tests send them too.
func hostileDocuments() []hostileCase {
	act := func(body string) string {
		return `<iati-activities version="2.03"><iati-activity><iati-identifier>XM-TEST-1</iati-identifier>` + body + `</iati-activity></iati-activities>`
	}
	return []hostileCase{
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` +
			act(`<title><narrative>&lol2;</narrative></title>`), CodeDTDRefused, models.ErrMalformed},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + act(`<title><narrative>&xxe;</narrative></title>`),
			CodeDTDRefused, models.ErrMalformed},
		{"undeclared entity", act(`<title><narrative>&xxe;</narrative></title>`), CodeNotXML, models.ErrMalformed},
		{"huge text node", act(`<title><narrative>` + strings.Repeat("A", 2<<20) + `</narrative></title>`), CodeTokenTooLarge, models.ErrTooLarge},
		{"huge attribute", act(`<reporting-org ref="` + strings.Repeat("B", 2<<20) + `" type="10"/>`), CodeTokenTooLarge, models.ErrTooLarge},
		{"huge comment", act(`<!--` + strings.Repeat("<c>", 1<<20) + `-->`), CodeTokenTooLarge, models.ErrTooLarge},
		{"deep nesting", act(strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100)), CodeTooDeep, models.ErrInvalid},
		{"version 1.05", `<iati-activities version="1.05"><iati-activity/></iati-activities>`, CodeUnsupportedVersion, models.ErrInvalid},
		{"no version", `<iati-activities><iati-activity/></iati-activities>`, CodeUnsupportedVersion, models.ErrInvalid},
		{"bad activity date", act(`<activity-date type="1" iso-date="2024-13-45"/>`), CodeBadDate, models.ErrInvalid},
		{"bad transaction date", act(`<transaction><transaction-type code="3"/><transaction-date iso-date="yesterday"/><value value-date="2024-01-01">1</value></transaction>`),
			CodeBadDate, models.ErrInvalid},
		{"bad value", act(`<budget><period-start iso-date="2024-01-01"/><period-end iso-date="2024-12-31"/><value value-date="2024-01-01">1,000</value></budget>`),
			CodeBadValue, models.ErrInvalid},
		{"bad percentage", act(`<recipient-country code="SN" percentage="half"/>`), CodeBadValue, models.ErrInvalid},
		{"missing identifier", `<iati-activities version="2.03"><iati-activity><title><narrative>x</narrative></title></iati-activity></iati-activities>`,
			CodeMissingIdentifier, models.ErrInvalid},
		{"html page", `<!doctype html><html><body>Not found</body></html>`, CodeDTDRefused, models.ErrMalformed},
		{"xhtml", `<html><body>Not found</body></html>`, CodeNotIATI, models.ErrInvalid},
		{"an organisation file", `<iati-organisations version="2.03"><iati-organisation/></iati-organisations>`, CodeNotIATI, models.ErrInvalid},
		{"not XML", `{"activities": []}`, CodeNotXML, models.ErrMalformed},
		{"empty", ``, CodeEmpty, models.ErrMalformed},
		{"truncated", act(`<title><narrative>cut`)[:90], CodeNotXML, models.ErrMalformed},
		{"no activities", `<iati-activities version="2.03"></iati-activities>`, CodeNoActivities, models.ErrInvalid},
		{"latin-1", `<?xml version="1.0" encoding="ISO-8859-1"?>` + act(""), CodeUnsupportedCharset, models.ErrInvalid},
		{"two roots", act("") + `<iati-activities version="2.03"/>`, CodeNotXML, models.ErrMalformed},
	}
}

func TestReadRefusesHostileInput(t *testing.T) {
	for _, tc := range hostileDocuments() {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, strings.NewReader(tc.doc), Limits{})
			var re *models.AidDataError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.code, re.Code, "%v", err)
			assert.ErrorIs(t, err, tc.kind)
		})
	}
	_, _, err := readAll(t, strings.NewReader("\uFEFF"+`<iati-activities version="2.03"><iati-activity><iati-identifier>X-1</iati-identifier></iati-activity></iati-activities>`), Limits{})
	assert.NoError(t, err, "a byte-order mark is allowed")
}

// TestReadBoundsOneHugeActivity: an activity with 200,000 transactions (30 MB) is read keeping
// MaxTransactions of them, counting and summing all, in bounded memory.
func TestReadBoundsOneHugeActivity(t *testing.T) {
	const n = 200_000
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprint(pw, `<iati-activities version="2.03"><iati-activity default-currency="USD"><iati-identifier>XM-BIG-1</iati-identifier>`)
		for i := range n {
			fmt.Fprintf(pw, `<transaction><transaction-type code="3"/><transaction-date iso-date="2024-01-%02d"/><value value-date="2024-01-01">%d</value></transaction>`, 1+i%28, 10)
		}
		fmt.Fprint(pw, `</iati-activity></iati-activities>`)
		pw.Close()
	}()
	var peak uint64
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	rd := NewReader(&sampling{r: pr, every: 1 << 20, peak: &peak}, Limits{})
	a, err := rd.Next()
	require.NoError(t, err)
	assert.Len(t, a.Transactions, DefaultLimits.MaxTransactions)
	assert.Equal(t, n, a.TransactionCount)
	assert.Equal(t, float64(10*n), a.Sums["3"]["USD"])
	assert.Contains(t, a.Notes, models.AidDataNote{Code: NoteTransactionsKept, Args: models.Args{"kept": models.ArgInt(500), "total": models.ArgInt(200000)}})
	_, err = rd.Next()
	assert.ErrorIs(t, err, io.EOF)
	grew := int64(peak) - int64(base)
	t.Logf("heap in use grew by at most %.1f MiB while reading a %d-transaction activity", float64(grew)/(1<<20), n)
	assert.Less(t, grew, int64(24<<20), "reading one huge activity holds it whole")
}

// sampling reads through r and records the peak heap in use every so many bytes.
type sampling struct {
	r     io.Reader
	every int
	n     int
	peak  *uint64
}

func (s *sampling) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += n
	if s.n >= s.every {
		s.n = 0
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > *s.peak {
			*s.peak = ms.HeapInuse
		}
	}
	return n, err
}
